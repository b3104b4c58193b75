// ketama_ring in the libmemcached modes: libmemcached's published 99-case
// fixture, and key-for-key agreement with the live Debian libmemcached on
// 100,000 random keys per server list (3, 10, 100 servers; port 11211 and
// others; equal and unequal weights), also after erase; one_at_a_time
// against libhashkit's default hash.
#include <doctest/doctest.h>
#include <libmemcached/memcached.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/ketama.hpp"
#include "quorum/hashing/one_at_a_time.hpp"

using namespace quorum::hashing;

namespace {

struct fixture_case {
  const char* key;
  std::uint32_t key_hash;
  std::uint32_t point;
  const char* server;
};

// libmemcached's test/fixtures/ketama.hpp (ketama_test_cases, the weighted
// MD5 mode): key, its MD5 hash, the continuum point it lands on, its server.
constexpr fixture_case fixture[99] = {
    {"SVa_]_V41)", 443691461U, 445379617U, "10.0.1.7"},  {"*/Z;?V(.\\8", 1422915503U, 1428303028U, "10.0.1.1"},
    {"30C1*Z*S/_", 1473165754U, 1480075959U, "10.0.1.2"},  {"ERR:EC58G>", 2148406511U, 2168579133U, "10.0.1.7"},
    {"1I=cTMNTKF", 2882686667U, 2885206587U, "10.0.1.5"},  {"]VG<`I*Z8)", 1103544263U, 1104827657U, "10.0.1.5"},
    {"UUTC`-V159", 3716288206U, 3727224240U, "10.0.1.5"},  {"@7RU6C6T+Z", 3862737685U, 3871917949U, "10.0.1.5"},
    {"/XLN0@+36;", 1623269830U, 1627683651U, "10.0.1.1"},  {"4(`X;\\V.^c", 373546328U, 383925769U, "10.0.1.1"},
    {"726bW=9*a4", 4213440020U, 4213950705U, "10.0.1.7"},  {"\\`)<B)UE,c", 951096736U, 955226069U, "10.0.1.1"},
    {"P1[Ma3=K1/", 1989324036U, 1994028240U, "10.0.1.8"},  {"C89I.-V?cT", 1604239957U, 1606398093U, "10.0.1.8"},
    {"D[HE+cFXDK", 2117036136U, 2117124014U, "10.0.1.3"},  {"P1L?NAB[)K", 2129972569U, 2132542634U, "10.0.1.1"},
    {"cDT0)Z5P6,", 176485284U, 178675413U, "10.0.1.5"},  {"@JW`+[WAO8", 2720940826U, 2743975456U, "10.0.1.5"},
    {"\\39DKW^)N_", 3548879868U, 3550704865U, "10.0.1.3"},  {"EM75N0+[X1", 1558531507U, 1559308507U, "10.0.1.4"},
    {"`,SS]NBP,b", 1883545960U, 1884847278U, "10.0.1.1"},  {"XX1a9LT+F?", 653487707U, 656410408U, "10.0.1.5"},
    {"Zc\\-,F-c6V", 1160802451U, 1171575728U, "10.0.1.5"},  {"1*RTMC7,03", 1602398012U, 1606398093U, "10.0.1.8"},
    {"*Xc+V0P>32", 536016577U, 539988520U, "10.0.1.7"},  {"U))Fb-(`,.", 4128682289U, 4136854163U, "10.0.1.7"},
    {"R-08RNTaRT", 3718170086U, 3727224240U, "10.0.1.5"},  {"(LHcO203I3", 1007779411U, 1014643570U, "10.0.1.5"},
    {"=256P+;Qc8", 3976201210U, 3976304873U, "10.0.1.5"},  {"OI5XZ_BBT(", 2155922164U, 2168579133U, "10.0.1.7"},
    {"2TLRL/UL;:", 1086800909U, 1095659802U, "10.0.1.7"},  {"WHD\\O1`ZRW", 3087923411U, 3095471560U, "10.0.1.5"},
    {".=54)_c;=T", 2497691631U, 2502731301U, "10.0.1.1"},  {";G<W-XWZ@b", 2888169733U, 2888728739U, "10.0.1.5"},
    {"(,>E`)FT\\4", 580747448U, 581063326U, "10.0.1.2"},  {"HZAU*;P*N]", 2564670474U, 2565697267U, "10.0.1.7"},
    {"NZ@ZE=O84_", 533335275U, 539988520U, "10.0.1.7"},  {"6,cEI`F_P>", 3972869246U, 3974773167U, "10.0.1.6"},
    {"c,5AQ/T5)6", 2835605783U, 2847870057U, "10.0.1.8"},  {".O,>>BT)RX", 3857978174U, 3871917949U, "10.0.1.5"},
    {"XY\\X::LX50", 1749241099U, 1752196488U, "10.0.1.6"},  {"+550F^/.01", 3781824099U, 3783248219U, "10.0.1.6"},
    {"<.X9E2S5+9", 3232479481U, 3234387706U, "10.0.1.7"},  {"]\\.UH8_0a1", 2419699252U, 2423002920U, "10.0.1.4"},
    {"8(6=(T0/Z0", 728266737U, 729026070U, "10.0.1.7"},  {"8*6a;Sc*X+", 4223431086U, 4230156966U, "10.0.1.2"},
    {"<QW:;3K6;H", 2731158143U, 2743975456U, "10.0.1.5"},  {"7C@EY@-Y?_", 760770733U, 761576669U, "10.0.1.5"},
    {"aPb3E1WD4K", 2500489218U, 2502731301U, "10.0.1.1"},  {"?@12R<=1BH", 1494795329U, 1502505505U, "10.0.1.8"},
    {"QR(a+Q=1FU", 3238535074U, 3238996435U, "10.0.1.6"},  {"`C9^FV,960", 2628553463U, 2628733766U, "10.0.1.6"},
    {"UNHVP..^8H", 977096483U, 977319837U, "10.0.1.4"},  {":Y.2W2[(35", 2777083668U, 2784182515U, "10.0.1.7"},
    {"M/HV^_HZ4O", 3623390946U, 3624445007U, "10.0.1.7"},  {"ZY16KQ<ICD", 1831153193U, 1838563516U, "10.0.1.4"},
    {"bV2,`a.PY9", 1962228869U, 1962648654U, "10.0.1.1"},  {"U;9:-+5N]9", 269504649U, 277560877U, "10.0.1.1"},
    {"1S/:aJ[1(;", 578069729U, 581063326U, "10.0.1.2"},  {"Nb-X^]M)I:", 330865696U, 331009896U, "10.0.1.6"},
    {"2;M;ES>J5/", 2776949824U, 2784182515U, "10.0.1.7"},  {"[>RZHG97Q9", 71954686U, 72034069U, "10.0.1.6"},
    {"J3/G[)9<^Z", 2799896459U, 2805183696U, "10.0.1.7"},  {"N-)88>[O`,", 50404102U, 51792557U, "10.0.1.5"},
    {"NP:=FR\\OaA", 3837333776U, 3837792034U, "10.0.1.7"},  {"`@L+W;a,O[", 1512157148U, 1522285852U, "10.0.1.6"},
    {"W2`P:-+1T[", 2945171975U, 2946196424U, "10.0.1.5"},  {"-6G7K^YDIN", 3168617340U, 3170513015U, "10.0.1.7"},
    {"U>*>9ZI6V5", 668514946U, 674097631U, "10.0.1.6"},  {".I?^6Ic9RK", 938419020U, 942832691U, "10.0.1.6"},
    {"0OZH^9BKM[", 3682518606U, 3686781297U, "10.0.1.8"},  {"5?50UGZ:ML", 868610882U, 869425986U, "10.0.1.5"},
    {"?K2NF@3=IU", 381218851U, 383925769U, "10.0.1.1"},  {"YI@G-2X?UB", 3688706179U, 3693197681U, "10.0.1.5"},
    {"7cY</BSaL=", 3976870223U, 3978903843U, "10.0.1.6"},  {"A(`KF:[RH8", 3292979676U, 3294849139U, "10.0.1.6"},
    {";=ZT\\W^P+H", 1401102653U, 1416290674U, "10.0.1.4"},  {"b2?WFF56;R", 480494704U, 486971192U, "10.0.1.4"},
    {"CTR74,J+N.", 137446045U, 146633907U, "10.0.1.8"},  {"<b;*R+QDST", 1304985302U, 1308223778U, "10.0.1.5"},
    {"\\R^7=9UCG`", 126218373U, 129199837U, "10.0.1.5"},  {"1bQS5]WOXB", 1853470245U, 1855329369U, "10.0.1.4"},
    {"M(@X^b[L:K", 3019630308U, 3022260113U, "10.0.1.1"},  {"431cBF8,YO", 1679726993U, 1685224295U, "10.0.1.7"},
    {"(bEIQJ:E./", 2922607787U, 2925521819U, "10.0.1.6"},  {"WS/3H*)7F;", 419488232U, 422140585U, "10.0.1.5"},
    {"ZJF[Ia6Q)+", 3960568056U, 3962489998U, "10.0.1.7"},  {"<]*QCK8U,>", 2590140172U, 2598117636U, "10.0.1.7"},
    {"\\[a\\^=V_M0", 689410119U, 698690782U, "10.0.1.6"},  {"7;RM+8J9YC", 1530175299U, 1531107082U, "10.0.1.7"},
    {"4*=.SPR[AV", 3928582722U, 3928853792U, "10.0.1.1"},  {"-2F+^88P4U", 3023552752U, 3025823613U, "10.0.1.7"},
    {"X;-F`(N?9D", 570465234U, 572485994U, "10.0.1.7"},  {"R=F_D-K2a]", 1287750228U, 1290935562U, "10.0.1.7"},
    {"X*+2aaC.EG", 3200948713U, 3201088518U, "10.0.1.5"},  {"[1ZXONX2]a", 4108881567U, 4109865744U, "10.0.1.4"},
    {"FL;\\GWacaV", 458449508U, 467374054U, "10.0.1.4"},  {"\\MQ_XNT7L-", 1259349383U, 1259509450U, "10.0.1.7"},
    {"VD6D0]ba_\\", 3842502950U, 3842588691U, "10.0.1.1"},
};

struct server {
  std::string host;
  std::uint32_t port;
  std::uint32_t weight;
  [[nodiscard]] std::string name() const { return host + ":" + std::to_string(port); }
};

const std::vector<server> fixture_servers{
    {"10.0.1.1", 11211, 600}, {"10.0.1.2", 11211, 300},  {"10.0.1.3", 11211, 200}, {"10.0.1.4", 11211, 350},
    {"10.0.1.5", 11211, 1000}, {"10.0.1.6", 11211, 800}, {"10.0.1.7", 11211, 950}, {"10.0.1.8", 11211, 100},
};

// A live libmemcached handle with the servers added; nothing is contacted.
class live_memcached {
 public:
  live_memcached(ketama_mode mode, const std::vector<server>& servers) : memc_{memcached_create(nullptr)} {
    REQUIRE(memc_ != nullptr);
    if (mode == ketama_mode::libmemcached) {
      REQUIRE(memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) == MEMCACHED_SUCCESS);
    } else {
      REQUIRE(memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                                     MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA) == MEMCACHED_SUCCESS);
    }
    // One push builds the continuum once; adding servers one by one would
    // rebuild it per server.
    memcached_server_list_st list = nullptr;
    for (const server& s : servers) {
      memcached_return_t rc = MEMCACHED_SUCCESS;
      list = memcached_server_list_append_with_weight(list, s.host.c_str(), static_cast<in_port_t>(s.port), s.weight,
                                                      &rc);
      REQUIRE(rc == MEMCACHED_SUCCESS);
    }
    REQUIRE(memcached_server_push(memc_, list) == MEMCACHED_SUCCESS);
    memcached_server_list_free(list);
  }
  live_memcached(const live_memcached&) = delete;
  live_memcached& operator=(const live_memcached&) = delete;
  ~live_memcached() { memcached_free(memc_); }

  [[nodiscard]] std::uint32_t server_index(std::string_view key) const {
    return memcached_generate_hash(memc_, key.data(), key.size());
  }
  [[nodiscard]] std::string server_name(std::uint32_t index) const {
    const memcached_instance_st* instance = memcached_server_instance_by_position(memc_, index);
    return std::string{memcached_server_name(instance)} + ":" + std::to_string(memcached_server_port(instance));
  }
  [[nodiscard]] std::uint32_t points() const { return memc_->ketama.continuum_points_counter; }

 private:
  memcached_st* memc_;
};

ketama_ring<std::string> make_ring(ketama_mode mode, const std::vector<server>& servers) {
  ketama_ring<std::string> ring{mode};
  for (const server& s : servers) ring.insert(s.name(), s.weight);
  return ring;
}

// Memcached keys in the wild plus bytes >= 0x80, whose sign extension in
// one-at-a-time must match.
void random_key(quorum::seeded_random& rng, std::string& key) {
  key.resize(1 + rng.below(60));
  for (char& c : key) c = static_cast<char>(rng.chance(0.1) ? 128 + rng.below(128) : 33 + rng.below(94));
}

std::vector<server> server_list(std::size_t count, std::uint32_t port, bool unequal, quorum::seeded_random& rng) {
  std::vector<server> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t p = port == 11211 ? port : port + static_cast<std::uint32_t>(i % 3);
    const auto w = unequal ? static_cast<std::uint32_t>(1 + rng.below(1000)) : 1u;
    out.push_back({"10." + std::to_string(i / 200) + "." + std::to_string(i % 200) + ".7", p, w});
  }
  return out;
}

// Every key on the same server as libmemcached; returns the mismatch count.
// Both sides list the servers in the same order, checked name by name first,
// so comparing positions compares servers.
std::size_t mismatches(const ketama_ring<std::string>& ring, const live_memcached& live, std::uint64_t seed,
                       std::size_t keys) {
  for (std::uint32_t i = 0; i < ring.size(); ++i) REQUIRE(ring.name_at(i) == live.server_name(i));
  quorum::seeded_random rng{seed};
  std::size_t bad = 0;
  std::string key;
  for (std::size_t i = 0; i < keys; ++i) {
    random_key(rng, key);
    if (ring.point_for(ring.hash_key(key)).node != live.server_index(key)) ++bad;
  }
  return bad;
}

void check_against_live(ketama_mode mode, std::size_t count, std::uint32_t port, bool unequal) {
  quorum::seeded_random rng{count * 7 + port + (unequal ? 1 : 0)};
  const std::vector<server> servers = server_list(count, port, unequal, rng);
  const auto ring = make_ring(mode, servers);
  const live_memcached live{mode, servers};
  CAPTURE(count);
  CAPTURE(port);
  CAPTURE(unequal);
  CHECK(ring.point_count() == live.points());
  CHECK(mismatches(ring, live, count + port, 100'000) == 0);
}

}  // namespace

TEST_CASE("ketama libmemcached: the published 99-case fixture and the VDEAAAAA wrap-around") {
  const auto ring = make_ring(ketama_mode::libmemcached, fixture_servers);
  const live_memcached live{ketama_mode::libmemcached, fixture_servers};
  for (const fixture_case& c : fixture) {
    CAPTURE(c.key);
    CHECK(ring.hash_key(c.key) == c.key_hash);
    CHECK(ring.point_for(c.key_hash).value == c.point);
    CHECK(ring.find(c.key) == std::string{c.server} + ":11211");
    CHECK(live.server_name(live.server_index(c.key)) == std::string{c.server} + ":11211");
  }
  // Past the last point: the first point's owner, on both sides.
  CHECK(ring.hash_key("VDEAAAAA") == 0xfffcd1b5u);
  CHECK(memcached_generate_hash_value("VDEAAAAA", 8, MEMCACHED_HASH_MD5) == 0xfffcd1b5u);
  CHECK(ring.point_values().back() < 0xfffcd1b5u);
  const ketama_point wrapped = ring.point_for(0xfffcd1b5u);
  CHECK(wrapped.value == ring.point_values().front());
  CHECK(ring.find("VDEAAAAA") == ring.node_at(wrapped.node));
  CHECK(ring.find("VDEAAAAA") == live.server_name(live.server_index("VDEAAAAA")));
}

TEST_CASE("ketama libmemcached: 100 equal servers get 156 points each, as in libmemcached's float arithmetic") {
  quorum::seeded_random rng{1};
  const auto servers = server_list(100, 11211, false, rng);
  CHECK(make_ring(ketama_mode::libmemcached, servers).point_count() == 100 * 156);
  CHECK(live_memcached{ketama_mode::libmemcached, servers}.points() == 100 * 156);
}

TEST_CASE("ketama libmemcached: weighted mode matches live libmemcached, 3 servers") {
  for (std::uint32_t port : {11211u, 11300u})
    for (bool unequal : {false, true}) check_against_live(ketama_mode::libmemcached, 3, port, unequal);
}

TEST_CASE("ketama libmemcached: weighted mode matches live libmemcached, 10 servers") {
  for (std::uint32_t port : {11211u, 22122u})
    for (bool unequal : {false, true}) check_against_live(ketama_mode::libmemcached, 10, port, unequal);
}

TEST_CASE("ketama libmemcached: weighted mode matches live libmemcached, 100 servers") {
  for (std::uint32_t port : {11211u, 11300u})
    for (bool unequal : {false, true}) check_against_live(ketama_mode::libmemcached, 100, port, unequal);
}

TEST_CASE("ketama libmemcached_default: one-at-a-time mode matches live libmemcached, 3, 10 and 100 servers") {
  // Unequal weights included: libmemcached then switches to weighted MD5
  // points even with weighting off, and so must we.
  for (std::size_t count : {3u, 10u, 100u})
    for (std::uint32_t port : {11211u, 11300u})
      for (bool unequal : {false, true}) check_against_live(ketama_mode::libmemcached_default, count, port, unequal);
}

TEST_CASE("ketama libmemcached: after erase the ring equals libmemcached built without that server") {
  for (ketama_mode mode : {ketama_mode::libmemcached, ketama_mode::libmemcached_default}) {
    auto servers = fixture_servers;
    auto ring = make_ring(mode, servers);
    CHECK(ring.erase(servers[2].name()));
    servers.erase(servers.begin() + 2);
    const live_memcached live{mode, servers};
    CHECK(ring.point_count() == live.points());
    CHECK(mismatches(ring, live, 99, 20'000) == 0);
  }
}

TEST_CASE("ketama libmemcached: a port written with leading zeros names the same server") {
  ketama_ring<std::string> a{ketama_mode::libmemcached};
  ketama_ring<std::string> b{ketama_mode::libmemcached};
  a.insert("cache-a:08080");
  a.insert("cache-b");
  b.insert("cache-a:8080");
  b.insert("cache-b:11211");
  quorum::seeded_random rng{5};
  std::string key;
  for (int i = 0; i < 1000; ++i) {
    random_key(rng, key);
    CHECK((a.find(key) == "cache-a:08080") == (b.find(key) == "cache-a:8080"));
  }
}

TEST_CASE("ketama libmemcached: one_at_a_time equals libhashkit's default hash, high bytes included") {
  quorum::seeded_random rng{9};
  for (int i = 0; i < 5000; ++i) {
    std::string key(rng.below(100), '\0');
    for (char& c : key) c = static_cast<char>(rng.below(256));
    CHECK(one_at_a_time(key) == memcached_generate_hash_value(key.data(), key.size(), MEMCACHED_HASH_DEFAULT));
  }
  static_assert(one_at_a_time("") == 0);
}
