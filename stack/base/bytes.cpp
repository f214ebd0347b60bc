#include "stack/base/bytes.hpp"

namespace tapstack {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}
}  // namespace

ByteVector bytes_from_hex(std::string_view hex) {
  ByteVector out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\t' || c == ':') {
      continue;
    }
    const int v = hex_value(c);
    if (v < 0) {
      return {};
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::byte>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) {
    return {};
  }
  return out;
}

}  // namespace tapstack
