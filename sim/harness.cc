#include "sim/harness.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace esact::sim {

// ---- StallSpec / StallPattern -----------------------------------------------------------

std::string StallSpec::Name() const {
  switch (kind) {
    case Kind::kNone:
      return "none";
    case Kind::kRandom:
      return "rand" + std::to_string(static_cast<int>(p * 100.0 + 0.5));
    case Kind::kBursty:
      return "bursty";
  }
  return "unknown";
}

StallPattern::StallPattern(StallSpec spec, uint64_t seed) : spec_(spec), rng_(seed) {
  if (spec.p < 0.0 || spec.p > 1.0 ||
      (spec.kind == StallSpec::Kind::kBursty && spec.max_burst < 1)) {
    throw std::invalid_argument("StallPattern: p must be in [0, 1] and a burst at least 1 cycle");
  }
}

bool StallPattern::Stall() {
  switch (spec_.kind) {
    case StallSpec::Kind::kNone:
      return false;
    case StallSpec::Kind::kRandom:
      return std::bernoulli_distribution(spec_.p)(rng_);
    case StallSpec::Kind::kBursty:
      if (burst_left_ > 0) {
        --burst_left_;
        return true;
      }
      if (std::bernoulli_distribution(spec_.p)(rng_)) {
        // This cycle starts a burst of 1..max_burst stall cycles.
        const int len = std::uniform_int_distribution<int>(1, spec_.max_burst)(rng_);
        burst_left_ = len - 1;
        return true;
      }
      return false;
  }
  return false;
}

// ---- HarnessBase ------------------------------------------------------------------------

namespace {

// Directory of the running executable (the CMake build directory for our tests).
std::filesystem::path ExecutableDir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::filesystem::current_path();
  return exe.parent_path();
}

// gtest names contain '/' for parameterized tests; keep the file name flat.
std::string SanitizeFileName(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == ' ' || c == ':') c = '-';
  }
  return name;
}

}  // namespace

HarnessBase::HarnessBase(uint64_t seed)
    : context_(std::make_unique<VerilatedContext>()), seed_(seed) {
  // Failed assertions and $error must fail the test, not abort the test binary.
  context_->fatalOnError(false);
  // --x-initial unique / --x-assign unique draw from this seed (randSeed 0 would mean
  // "from the system clock", so map it away).
  context_->randReset(2);
  context_->randSeed(static_cast<int>(seed % 0x7fffffff) + 1);
  MakeCurrent();
}

HarnessBase::~HarnessBase() {
  Finish();
  // The thread's context pointer must not dangle once this context is gone.
  if (Verilated::threadContextp() == context_.get()) Verilated::threadContextp(nullptr);
}

std::string HarnessBase::WavePathForCurrentTest() {
  const char* env = std::getenv("ESACT_WAVES");
  if (env == nullptr || env[0] == '\0' || std::string(env) == "0") return "";
  std::filesystem::path dir;
  if (std::string(env) == "1") {
    dir = ExecutableDir() / "waves";
  } else {
    dir = env;
  }
  std::string name = "esact";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name = std::string(info->test_suite_name()) + "." + info->name();
  }
  return (dir / (SanitizeFileName(name) + ".fst")).string();
}

void HarnessBase::OpenTrace(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  trace_->open(path.c_str());
  if (!trace_->isOpen()) {
    ADD_FAILURE() << "cannot open wave file " << path;
    trace_.reset();
    return;
  }
  wave_path_ = path;
}

void HarnessBase::Dump(uint64_t time) {
  if (trace_) trace_->dump(time);
}

bool HarnessBase::Finish() {
  if (finished_) return !rtl_error();
  finished_ = true;
  // Close the trace first so the waveform of a failing run is complete on disk.
  if (trace_) {
    trace_->flush();
    trace_->close();
    trace_.reset();
  }
  if (rtl_error()) {
    ADD_FAILURE() << "RTL reported an error (failed assertion or $error) by cycle " << cycle_
                  << ", seed " << seed_
                  << (wave_path_.empty() ? std::string(" (rerun with ESACT_WAVES=1 for waves)")
                                         : ", waves: " + wave_path_);
    return false;
  }
  return true;
}

uint64_t TestSeed() {
  uint64_t base = 1;
  if (const char* env = std::getenv("ESACT_SEED")) base = std::strtoull(env, nullptr, 0);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = std::string(info->test_suite_name()) + "." + info->name();
  const uint64_t name_hash = std::hash<std::string>{}(name);
  const uint64_t seed = base ^ (name_hash & 0xffffffffu);
  std::printf("[ seed     ] %s: ESACT_SEED=%llu -> seed %llu\n", name.c_str(),
              static_cast<unsigned long long>(base), static_cast<unsigned long long>(seed));
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

}  // namespace esact::sim
