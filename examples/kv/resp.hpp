// RESP2, the protocol redis-cli and redis-benchmark speak: a total parser for
// requests (any bytes give a command, "need more" or an error; every length
// bounded before anything is buffered for it) and the reply encoders.
// Requests are arrays of bulk strings, or inline lines as a terminal sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv::resp {

struct limits {
  std::size_t max_args = 4096;                        // elements in one request array
  std::size_t max_bulk_bytes = std::size_t{512} << 10;  // one argument
  std::size_t max_command_bytes = std::size_t{900} << 10;  // all arguments together: fits one log entry
  std::size_t max_inline_bytes = std::size_t{64} << 10;    // one inline line
};

enum class status { command, need_more, error };

struct parsed {
  status state = status::need_more;
  std::size_t consumed = 0;        // bytes of input this command (or empty line) took
  std::vector<std::string> args;   // empty for an empty inline line or "*0": nothing to run
  std::string error;               // for status::error: the reply text after "-ERR "
};

namespace detail {

// Digits with an optional leading '-' up to "\r\n"; the line is at most 32 bytes.
// Returns: 1 parsed, 0 need more, -1 malformed.
inline int read_int_line(std::string_view in, std::size_t from, long long& value, std::size_t& next) {
  const std::size_t end = in.find("\r\n", from);
  if (end == std::string_view::npos) return in.size() - from > 32 ? -1 : 0;
  std::string_view digits = in.substr(from, end - from);
  bool negative = false;
  if (!digits.empty() && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 18) return -1;
  long long v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  value = negative ? -v : v;
  next = end + 2;
  return 1;
}

// A byte of the request as the error shows it: itself if printable, else
// \xHH (a raw CR or LF would end the error line early and break the reply).
inline std::string shown(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, c);
  static constexpr char hex[] = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string{'\\', 'x', hex[u >> 4], hex[u & 15]};
}

inline parsed fail(std::string why) {
  parsed p;
  p.state = status::error;
  p.error = "Protocol error: " + std::move(why);
  return p;
}

// Fills out.args in place: strings that held earlier requests' arguments keep their heap room.
inline void parse_array(std::string_view in, const limits& lim, parsed& out) {
  out.state = status::need_more;
  long long count = 0;
  std::size_t at = 0;
  const int header = read_int_line(in, 1, count, at);
  if (header < 0) return void(out = fail("invalid multibulk length"));
  if (header == 0) return;
  if (count <= 0) {  // "*0" and "*-1": an empty request, consumed and ignored
    out.args.clear();
    out.state = status::command;
    out.consumed = at;
    return;
  }
  if (static_cast<unsigned long long>(count) > lim.max_args)
    return void(out = fail("too many arguments in one request"));
  out.args.resize(static_cast<std::size_t>(count));
  std::size_t total = 0;
  for (auto& arg : out.args) {
    if (at >= in.size()) return;
    if (in[at] != '$') return void(out = fail("expected '$', got '" + shown(in[at]) + "'"));
    long long len = 0;
    std::size_t data = 0;
    const int r = read_int_line(in, at + 1, len, data);
    if (r < 0 || len < 0) return void(out = fail("invalid bulk length"));
    if (r == 0) return;
    if (static_cast<unsigned long long>(len) > lim.max_bulk_bytes)
      return void(out = fail("invalid bulk length (over the limit)"));
    total += static_cast<std::size_t>(len);
    if (total > lim.max_command_bytes) return void(out = fail("request too large"));
    const std::size_t end = data + static_cast<std::size_t>(len);
    if (in.size() < end + 2) return;
    if (in[end] != '\r' || in[end + 1] != '\n') return void(out = fail("bulk string not followed by CRLF"));
    arg.assign(in.substr(data, static_cast<std::size_t>(len)));
    at = end + 2;
  }
  out.state = status::command;
  out.consumed = at;
}

// Splits an inline line on blanks; "..." and '...' group, with \" \\ \n \r \t inside double quotes.
inline parsed split_inline(std::string_view line, std::size_t consumed) {
  parsed out;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    std::string arg;
    if (line[i] == '"' || line[i] == '\'') {
      const char quote = line[i++];
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == quote) {
          closed = true;
          break;
        }
        if (c == '\\' && quote == '"' && i < line.size()) {
          const char e = line[i++];
          c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
        }
        arg.push_back(c);
      }
      if (!closed) return fail("unbalanced quotes in request");
      if (i < line.size() && line[i] != ' ' && line[i] != '\t')
        return fail("closing quote must be followed by a space");
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') arg.push_back(line[i++]);
    }
    out.args.push_back(std::move(arg));
  }
  out.state = status::command;
  out.consumed = consumed;
  return out;
}

}  // namespace detail

// Parses one request at the start of `in` into `out`, reusing out.args's
// storage (a connection parses every request into the same one).
inline void parse(std::string_view in, parsed& out, const limits& lim = {}) {
  out.state = status::need_more;
  out.consumed = 0;
  if (in.empty()) return;
  if (in.front() == '*') return detail::parse_array(in, lim, out);
  const std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) {
    if (in.size() > lim.max_inline_bytes) out = detail::fail("too big inline request");
    return;
  }
  if (nl > lim.max_inline_bytes) return void(out = detail::fail("too big inline request"));
  std::string_view line = in.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out = detail::split_inline(line, nl + 1);
  if (out.state == status::command && out.args.size() > lim.max_args)
    out = detail::fail("too many arguments in one request");
}

// Parses one request at the start of `in`.
inline parsed parse(std::string_view in, const limits& lim = {}) {
  parsed p;
  parse(in, p, lim);
  return p;
}

// Reply encoders: each appends one RESP2 value to out.
inline void simple(std::string& out, std::string_view s) { out.append("+").append(s).append("\r\n"); }
// `s` is the whole error text, its first word the code: "ERR ...", "TRYAGAIN ...".
// An error line. CR and LF in s become spaces, as Redis does: an error that
// echoes a client's bytes (an unknown command's name) stays one line, so the
// client cannot read part of it as a reply of its own.
inline void error(std::string& out, std::string_view s) {
  out.append("-");
  for (const char c : s) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.append("\r\n");
}
inline void integer(std::string& out, long long v) { out.append(":").append(std::to_string(v)).append("\r\n"); }
inline void bulk(std::string& out, std::string_view s) {
  out.append("$").append(std::to_string(s.size())).append("\r\n").append(s).append("\r\n");
}
inline void null_bulk(std::string& out) { out.append("$-1\r\n"); }
inline void array_header(std::string& out, std::size_t n) { out.append("*").append(std::to_string(n)).append("\r\n"); }

}  // namespace kv::resp
