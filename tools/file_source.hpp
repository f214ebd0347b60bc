#pragma once
// DirectoryFileSource: the files below a directory on disk, served by
// `--serve http:PORT:DIR` (apps/file_source.hpp is the interface the HTTP
// server sees; apps do no I/O themselves).
//
// Nothing outside DIR is ever opened. The HTTP server already refuses ".."
// and the like (apps/http_request.hpp resolve_path); here, symbolic links are
// the concern: a link inside DIR may point anywhere. Files are opened with
// openat2(2) relative to DIR with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so
// the kernel refuses any resolution that leaves DIR — through "..", an
// absolute link, or a relative link climbing out — with no window between a
// check and the open. Links that stay inside DIR are followed. On kernels
// without openat2 (before 5.6) the path is resolved with realpath(3) and
// must lie below realpath(DIR) (a symlink swapped in between the check and
// the open could still escape then; the start-up line says which mode runs).
//
// Only regular files are served (fstat after opening; FIFOs are opened
// non-blocking so that opening one cannot hang the loop). Reads are pread(2)
// at the response's offset.

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "apps/file_source.hpp"
#include "stack/base/result.hpp"

namespace tapstack::tools {

class DirectoryFileSource final : public apps::FileSource {
 public:
  // Opens DIR; the error names why ("/srv/www: No such file or directory", "...: not a directory").
  static Result<std::unique_ptr<DirectoryFileSource>, std::string> create(const std::string& dir);
  ~DirectoryFileSource() override;

  std::unique_ptr<apps::File> open(std::string_view relative_path) override;
  std::string description() const override;

  const std::string& root() const { return root_; }
  bool kernel_confined() const { return openat2_; }

 private:
  DirectoryFileSource(int dir_fd, std::string root, bool openat2)
      : dir_fd_(dir_fd), root_(std::move(root)), openat2_(openat2) {}
  int open_confined(const std::string& relative) const;

  int dir_fd_ = -1;
  std::string root_;  // realpath of DIR
  bool openat2_ = true;
};

}  // namespace tapstack::tools
