#include "apps/file_source.hpp"

#include <algorithm>
#include <utility>

namespace tapstack::apps {

namespace {

class MemoryFile final : public File {
 public:
  MemoryFile(std::shared_ptr<const std::string> content, const bool& fail_reads)
      : content_(std::move(content)), fail_reads_(fail_reads) {}
  std::uint64_t size() const override { return content_->size(); }
  Result<std::size_t, std::string> read(std::uint64_t offset, MutableBytes out) override {
    if (fail_reads_) {
      return fail(std::string("read failed (MemoryFileSource::fail_reads)"));
    }
    if (offset >= content_->size()) {
      return std::size_t{0};
    }
    const std::size_t at = static_cast<std::size_t>(offset);
    const std::size_t n = std::min(out.size(), content_->size() - at);
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<std::byte>((*content_)[at + i]);
    }
    return n;
  }

 private:
  std::shared_ptr<const std::string> content_;  // shared: a file replaced while open keeps its bytes
  const bool& fail_reads_;
};

}  // namespace

void MemoryFileSource::add(std::string relative_path, std::string content) {
  files_[std::move(relative_path)] = std::make_shared<const std::string>(std::move(content));
}

std::unique_ptr<File> MemoryFileSource::open(std::string_view relative_path) {
  const auto it = files_.find(relative_path);
  if (it == files_.end()) {
    return nullptr;
  }
  return std::make_unique<MemoryFile>(it->second, fail_reads_);
}

}  // namespace tapstack::apps
