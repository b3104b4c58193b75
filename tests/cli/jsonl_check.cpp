// Checks a quorum-sim trace against DESIGN.md's trace contract without trusting
// our own writer: every line is one strict JSON object (RFC 8259) carrying
// "seed", "time", "node" and "event", seeds stay in the requested range and in
// run order, every requested seed appears, and each event is one of DESIGN.md's
// with the fields its row there names.
// usage: quorum_cli_jsonl_check FILE FIRST_SEED LAST_SEED   (exit 0 ok, 1 not)
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

enum class kind { null, boolean, number, string, array, object };

struct field {
  kind type{kind::null};
  std::string text;  // a string's decoded value, or a number's spelling
};

// A strict recursive-descent JSON reader; it keeps the top-level object's fields.
class json_line {
 public:
  explicit json_line(std::string_view s) : s_{s} {}

  std::optional<std::map<std::string, field>> parse_object_line() {
    std::map<std::string, field> fields;
    skip_ws();
    if (!object(&fields, 0)) return std::nullopt;
    skip_ws();
    if (pos_ != s_.size()) return std::nullopt;
    return fields;
  }

 private:
  static constexpr int max_depth = 64;

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) { ++pos_; return true; }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  bool digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    return pos_ > start;
  }

  bool number(field* out) {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') ++pos_;
    else if (!digits()) return false;
    if (pos_ < s_.size() && s_[pos_] == '.') { ++pos_; if (!digits()) return false; }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return false;
    }
    if (out) *out = field{kind::number, std::string{s_.substr(start, pos_ - start)}};
    return true;
  }

  bool string(std::string* out) {
    if (pos_ >= s_.size() || s_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // control characters must be escaped
      if (c != '\\') { if (out) out->push_back(static_cast<char>(c)); continue; }
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i, ++pos_)
          if (pos_ >= s_.size() || std::string_view{"0123456789abcdefABCDEF"}.find(s_[pos_]) == std::string_view::npos)
            return false;
        if (out) out->push_back('?');  // the checks below never look inside escapes
      } else if (std::string_view{"\"\\/bfnrt"}.find(e) != std::string_view::npos) {
        if (out) out->push_back(e);
      } else {
        return false;
      }
    }
    return false;
  }

  bool value(field* out, int depth) {
    skip_ws();
    if (pos_ >= s_.size() || depth > max_depth) return false;
    const char c = s_[pos_];
    if (c == '{') { if (out) out->type = kind::object; return object(nullptr, depth + 1); }
    if (c == '[') { if (out) out->type = kind::array; return array(depth + 1); }
    if (c == '"') {
      std::string text;
      if (!string(&text)) return false;
      if (out) *out = field{kind::string, std::move(text)};
      return true;
    }
    if (literal("true") || literal("false")) { if (out) out->type = kind::boolean; return true; }
    if (literal("null")) { if (out) out->type = kind::null; return true; }
    return number(out);
  }

  bool array(int depth) {
    if (!eat('[')) return false;
    if (eat(']')) return true;
    do {
      if (!value(nullptr, depth)) return false;
    } while (eat(','));
    return eat(']');
  }

  bool object(std::map<std::string, field>* fields, int depth) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    do {
      skip_ws();
      std::string key;
      if (!string(&key) || !eat(':')) return false;
      field f;
      if (!value(&f, depth)) return false;
      if (fields && !fields->emplace(std::move(key), std::move(f)).second) return false;  // duplicate key
    } while (eat(','));
    return eat('}');
  }

  std::string_view s_;
  std::size_t pos_{0};
};

std::optional<std::uint64_t> unsigned_integer(const field& f) {
  if (f.type != kind::number || f.text.empty() || f.text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : f.text) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// The extra fields DESIGN.md's trace table gives each event, with their types.
const std::map<std::string, std::vector<std::pair<std::string, kind>>>& event_fields() {
  static const std::map<std::string, std::vector<std::pair<std::string, kind>>> table{
      {"propose", {{"value", kind::string}}},
      {"ack", {{"index", kind::number}, {"value", kind::string}}},
      {"apply", {{"index", kind::number}, {"value", kind::string}}},
      {"leader", {}},
      {"crash", {}},
      {"restart", {}},
      {"restore", {{"index", kind::number}}},
      {"vote", {{"txn", kind::number}, {"vote", kind::string}}},
      {"decide", {{"txn", kind::number}, {"decision", kind::string}}},
      {"outcome", {{"txn", kind::number}, {"decision", kind::string}}},
  };
  return table;
}

// One line's problem, or the empty string.
std::string check_line(const std::map<std::string, field>& f, std::uint64_t first, std::uint64_t last,
                       std::uint64_t& previous_seed) {
  for (const char* key : {"seed", "time", "node", "event"})
    if (!f.contains(key)) return std::string{"no \""} + key + "\"";
  const auto seed = unsigned_integer(f.at("seed"));
  if (!seed || *seed < first || *seed > last) return "\"seed\" is not an integer in the requested range";
  if (*seed < previous_seed) return "seeds out of run order";
  previous_seed = *seed;
  if (!unsigned_integer(f.at("time"))) return "\"time\" is not a non-negative integer";
  if (!unsigned_integer(f.at("node"))) return "\"node\" is not a non-negative integer";
  if (f.at("event").type != kind::string) return "\"event\" is not a string";
  const auto& table = event_fields();
  const auto known = table.find(f.at("event").text);
  if (known == table.end()) return "unknown event \"" + f.at("event").text + "\"";
  if (known->first == "leader") {  // Raft names a term, Paxos a ballot
    const auto term = f.find("term");
    const auto ballot = f.find("ballot");
    const bool ok = (term != f.end() && unsigned_integer(term->second)) ||
                    (ballot != f.end() && ballot->second.type == kind::object);
    if (!ok) return "event \"leader\" has neither a \"term\" nor a \"ballot\"";
  }
  for (const auto& [key, type] : known->second) {
    const auto it = f.find(key);
    if (it == f.end() || it->second.type != type) return "event \"" + known->first + "\" lacks a valid \"" + key + "\"";
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s FILE FIRST_SEED LAST_SEED\n", argc > 0 ? argv[0] : "jsonl_check");
    return 2;
  }
  const auto first = unsigned_integer(field{kind::number, argv[2]});
  const auto last = unsigned_integer(field{kind::number, argv[3]});
  std::ifstream in{argv[1], std::ios::binary};
  if (!in || !first || !last || *first > *last || *last - *first > 100000) {
    std::fprintf(stderr, "jsonl_check: cannot read '%s' or bad seed range\n", argv[1]);
    return 2;
  }
  std::set<std::uint64_t> seen;
  std::uint64_t previous_seed = 0;
  std::uint64_t lines = 0;
  std::map<std::string, std::uint64_t> events;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    const auto fields = json_line{line}.parse_object_line();
    std::string problem = fields ? check_line(*fields, *first, *last, previous_seed) : "not a JSON object";
    if (!problem.empty()) {
      std::fprintf(stderr, "jsonl_check: %s line %llu: %s: %.200s\n", argv[1], static_cast<unsigned long long>(lines),
                   problem.c_str(), line.c_str());
      return 1;
    }
    seen.insert(*unsigned_integer(fields->at("seed")));
    ++events[fields->at("event").text];
  }
  if (lines == 0 || seen.size() != *last - *first + 1) {
    std::fprintf(stderr, "jsonl_check: %s: %zu of %llu seeds appear in %llu lines\n", argv[1], seen.size(),
                 static_cast<unsigned long long>(*last - *first + 1), static_cast<unsigned long long>(lines));
    return 1;
  }
  std::printf("jsonl_check: %llu lines, %zu seeds, all valid;", static_cast<unsigned long long>(lines), seen.size());
  for (const auto& [name, count] : events)
    std::printf(" %s=%llu", name.c_str(), static_cast<unsigned long long>(count));
  std::printf("\n");
  return 0;
}
