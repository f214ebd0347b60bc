#include "tools/file_source.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tapstack::tools {

namespace {

constexpr int kFileFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

class DiskFile final : public apps::File {
 public:
  DiskFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~DiskFile() override { ::close(fd_); }
  std::uint64_t size() const override { return size_; }
  Result<std::size_t, std::string> read(std::uint64_t offset, MutableBytes out) override {
    while (true) {
      const ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
      if (n >= 0) {
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) {
        return fail(std::string("pread: ") + std::strerror(errno));
      }
    }
  }

 private:
  int fd_;
  std::uint64_t size_;
};

// realpath(3) into a std::string; empty on failure (errno set).
std::string real_path(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    return {};
  }
  std::string out(resolved);
  std::free(resolved);
  return out;
}

}  // namespace

Result<std::unique_ptr<DirectoryFileSource>, std::string> DirectoryFileSource::create(const std::string& dir) {
  const std::string root = real_path(dir);
  if (root.empty()) {
    return fail(dir + ": " + std::strerror(errno));
  }
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return fail(dir + ": " + (errno == ENOTDIR ? std::string("not a directory") : std::string(std::strerror(errno))));
  }
  // Probe openat2 once: "." beneath the directory always resolves where it is available.
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long probe = ::syscall(SYS_openat2, fd, ".", &how, sizeof how);
  const bool have_openat2 = probe >= 0;
  if (probe >= 0) {
    ::close(static_cast<int>(probe));
  }
  return std::unique_ptr<DirectoryFileSource>(new DirectoryFileSource(fd, root, have_openat2));
}

DirectoryFileSource::~DirectoryFileSource() {
  if (dir_fd_ >= 0) {
    ::close(dir_fd_);
  }
}

std::string DirectoryFileSource::description() const {
  return "files below " + root_ + (openat2_ ? "" : " (realpath-checked: no openat2)");
}

int DirectoryFileSource::open_confined(const std::string& relative) const {
  if (openat2_) {
    open_how how{};
    how.flags = kFileFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, dir_fd_, relative.c_str(), &how, sizeof how));
  }
  const std::string resolved = real_path(root_ + "/" + relative);
  if (resolved.empty() || resolved.size() <= root_.size() + 1 || resolved.compare(0, root_.size(), root_) != 0 ||
      (root_ != "/" && resolved[root_.size()] != '/')) {
    return -1;
  }
  return ::open(resolved.c_str(), kFileFlags);
}

std::unique_ptr<apps::File> DirectoryFileSource::open(std::string_view relative_path) {
  // The server's rules again, cheaply: a relative path without NUL (a C string would cut it).
  if (relative_path.empty() || relative_path.front() == '/' ||
      relative_path.find('\0') != std::string_view::npos) {
    return nullptr;
  }
  const int fd = open_confined(std::string(relative_path));
  if (fd < 0) {
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<DiskFile>(fd, static_cast<std::uint64_t>(st.st_size));
}

}  // namespace tapstack::tools
