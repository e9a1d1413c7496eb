// The reference deadlock case of u55c_platform.md §7.2: src writes a[i] and b1[i]; mid reads all of b1,
// then writes b2; join reads a[i] then b2[i]. N = 16, depth(b1) = depth(b2) = 2. Expected: depth(a) <= 14
// deadlocks (src blocks on a FULL `a` while mid still needs b1), 15 passes with max occupancy 15, 16 passes.
// Usage: reference_deadlock DEPTH_A   (DEPTH_A in 1, 13, 14, 15, 16); prints "ok <sum> <max occupancy of a>"
// or "deadlock" followed by the report, and exits 0 either way (3 on an unexpected error).
// A second case checks hls::stream_of_blocks: `reference_deadlock blocks DEPTH` (DEPTH 1 or 2) runs a writer
// that commits two blocks before sending a token the reader needs first: depth 1 deadlocks (writer FULL on
// the blocks, reader EMPTY on the stream), depth 2 passes with both blocks in use ("ok 2 2").
#include <cstdlib>
#include <iostream>
#include <string>

#include "hls_dataflow.h"
#include "hls_stream.h"
#include "hls_streamofblocks.h"

namespace {

constexpr int N = 16;

void src(hls::stream<float>& a, hls::stream<float>& b1) {
  for (int i = 0; i < N; ++i) {
    a.write(static_cast<float>(i));
    b1.write(static_cast<float>(100 * i));
  }
}

void mid(hls::stream<float>& b1, hls::stream<float>& b2) {
  float buffer[N];
  for (int i = 0; i < N; ++i) buffer[i] = b1.read();
  for (int i = 0; i < N; ++i) b2.write(buffer[i] + 1.0f);
}

void join(hls::stream<float>& a, hls::stream<float>& b2, float* sum) {
  float total = 0.0f;
  for (int i = 0; i < N; ++i) {
    const float x = a.read();
    const float y = b2.read();
    total += x + y;
  }
  *sum = total;
}

template <int DEPTH_A>
int run() {
  float sum = 0.0f;
  try {
    hls::stream<float, DEPTH_A> a("a");
    hls::stream<float, 2> b1("b1");
    hls::stream<float, 2> b2("b2");
    DATAFLOW_BEGIN("reference")
    DATAFLOW_TASK(src(a, b1));
    DATAFLOW_TASK(mid(b1, b2));
    DATAFLOW_TASK(join(a, b2, &sum));
    DATAFLOW_END()
  } catch (const stream_csim::Deadlock& e) {
    std::cout << "deadlock\n" << e.what();
    return 0;
  }
  int max_a = -1;
  for (const auto& c : stream_csim::channel_stats())
    if (c.name == "a") max_a = c.max_occupancy;
  std::cout << "ok " << sum << " " << max_a << "\n";
  return 0;
}

typedef float block_t[4];

template <int DEPTH>
void block_writer(hls::stream_of_blocks<block_t, DEPTH>& blocks, hls::stream<float>& token) {
  for (int k = 0; k < 2; ++k) {
    hls::write_lock<block_t> b(blocks);
    for (int i = 0; i < 4; ++i) b[i] = static_cast<float>(k);
  }
  token.write(1.0f);
}

template <int DEPTH>
void block_reader(hls::stream_of_blocks<block_t, DEPTH>& blocks, hls::stream<float>& token, float* out) {
  const float x = token.read();
  float total = x;
  for (int k = 0; k < 2; ++k) {
    hls::read_lock<block_t> b(blocks);
    total += b[3];
  }
  *out = total;
}

template <int DEPTH>
int run_blocks() {
  float out = 0.0f;
  try {
    hls::stream_of_blocks<block_t, DEPTH> blocks("blocks");
    hls::stream<float> token("token");
    DATAFLOW_BEGIN("blocks")
    DATAFLOW_TASK(block_writer<DEPTH>(blocks, token));
    DATAFLOW_TASK(block_reader<DEPTH>(blocks, token, &out));
    DATAFLOW_END()
  } catch (const stream_csim::Deadlock& e) {
    std::cout << "deadlock\n" << e.what();
    return 0;
  }
  int max_blocks = -1;
  for (const auto& c : stream_csim::channel_stats())
    if (c.name == "blocks") max_blocks = c.max_occupancy;
  std::cout << "ok " << out << " " << max_blocks << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "blocks") return std::atoi(argv[2]) == 1 ? run_blocks<1>() : run_blocks<2>();
  const int depth = argc > 1 ? std::atoi(argv[1]) : 15;
  try {
    switch (depth) {
      case 1: return run<1>();
      case 13: return run<13>();
      case 14: return run<14>();
      case 15: return run<15>();
      case 16: return run<16>();
      default: std::cerr << "unsupported depth " << depth << "\n"; return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
}
