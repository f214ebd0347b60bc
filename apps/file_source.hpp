#pragma once
// FileSource: the files the HTTP server may serve, injected by whoever runs
// it, because apps do no I/O of their own (DESIGN.md). `tapstack live` gives
// it a directory on disk (tools/file_source.hpp: open/pread, nothing outside
// the directory); tests give it a MemoryFileSource.
//
// Paths handed to open() are already checked by the server
// (apps/http_request.hpp resolve_path): relative, segments joined by '/', no
// empty, "." or ".." segment, no NUL, no backslash, no control character. A
// source still refuses anything it cannot prove lies below its root.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"

namespace tapstack::apps {

// One open regular file. Reads are positioned, so a response streams it chunk by chunk as the
// send buffer frees, and an unsent part is simply read again.
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  virtual ~File() = default;  // closes it

  // The size when it was opened: the Content-Length served.
  virtual std::uint64_t size() const = 0;
  // Reads up to out.size() bytes at `offset`; returns how many (0 only at or past the end). An
  // error means the response cannot be completed (the server aborts the connection).
  virtual Result<std::size_t, std::string> read(std::uint64_t offset, MutableBytes out) = 0;
};

class FileSource {
 public:
  FileSource() = default;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  virtual ~FileSource() = default;

  // The regular file at `relative_path` ("" is the root itself); nullptr when there is none, it
  // is not a regular file (a directory, a device), or it lies outside the root.
  virtual std::unique_ptr<File> open(std::string_view relative_path) = 0;
  // What is served, for the start-up line: "files below /srv/www".
  virtual std::string description() const = 0;
};

// Files held in memory, for tests (and the simulator). Files opened from it must not outlive it.
class MemoryFileSource final : public FileSource {
 public:
  // Adds (or replaces) the file at `relative_path` ("dir/name.txt").
  void add(std::string relative_path, std::string content);
  std::unique_ptr<File> open(std::string_view relative_path) override;
  std::string description() const override { return std::to_string(files_.size()) + " files in memory"; }
  // Reads that fail from now on (a disk error), for tests of the error path.
  void fail_reads(bool fail) { fail_reads_ = fail; }

 private:
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> files_;
  bool fail_reads_ = false;
};

}  // namespace tapstack::apps
