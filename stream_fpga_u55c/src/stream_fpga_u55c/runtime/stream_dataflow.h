// Dataflow region macros. In a Vitis build a DATAFLOW_TASK is the plain call it wraps (the canonical
// sequential form of a `#pragma HLS dataflow` region); in C simulation (-DSTREAM_CSIM) every task runs on
// its own thread with bounded streams and exact deadlock detection (csim/hls_dataflow.h).
#pragma once

#ifdef STREAM_CSIM
#include "hls_dataflow.h"
#define CSIM_NAME(name) (name)
#else
#define DATAFLOW_BEGIN(name)
#define DATAFLOW_TASK(...) __VA_ARGS__
#define DATAFLOW_END()
#define CSIM_NAME(name)
#endif
