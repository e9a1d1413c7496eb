// Token types of the generated dataflow kernels and the helpers that move tokens through streams.
// A token is a tile of N floats (the element of its itensor type). A stream carries it as
// ceil(N / W) items of W floats (tile<W>, W = min(N, 16): at most one 512-bit word per item, the width of
// an HBM port and of the kernels' 16 lanes); the last item of a token is zero-padded. A FIFO of depth
// D tokens is therefore declared with D * ceil(N / W) items.
// Valid Vitis HLS source; in C simulation (-DSTREAM_CSIM, csim/ first on the include path) hls::stream is
// the bounded, deadlock-detecting model of csim/hls_stream.h.
#pragma once

#include <hls_stream.h>

template <int N>
struct tile {
  float v[N];
};

// Pops one token of N floats (ceil(N / W) items) into dst.
template <int N, int W>
void read_token(hls::stream<tile<W>>& s, float* dst) {
#pragma HLS inline
  for (int w = 0; w < (N + W - 1) / W; ++w) {
#pragma HLS pipeline II=1
    const tile<W> item = s.read();
    for (int j = 0; j < W; ++j) {
#pragma HLS unroll
      if (w * W + j < N) dst[w * W + j] = item.v[j];
    }
  }
}

// Pushes one token of N floats (ceil(N / W) items) from src.
template <int N, int W>
void write_token(hls::stream<tile<W>>& s, const float* src) {
#pragma HLS inline
  for (int w = 0; w < (N + W - 1) / W; ++w) {
#pragma HLS pipeline II=1
    tile<W> item;
    for (int j = 0; j < W; ++j) {
#pragma HLS unroll
      item.v[j] = w * W + j < N ? src[w * W + j] : 0.0f;
    }
    s.write(item);
  }
}
