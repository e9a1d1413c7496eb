// C-simulation of a `#pragma HLS dataflow` region: every DATAFLOW_TASK runs on its own std::thread
// (stream_csim::Dataflow), so bounded streams behave as in hardware and a FIFO-depth deadlock is
// detected exactly. In a Vitis build the same macros expand to plain sequential calls (see the project's
// stream_dataflow.h); DATAFLOW_BEGIN and DATAFLOW_END carry their own semicolon so that nothing but the
// task calls remains in the Vitis region.
#pragma once

#include "stream_csim.h"

#define DATAFLOW_BEGIN(name) ::stream_csim::Dataflow stream_dataflow_region_(name);
#define DATAFLOW_TASK(...) stream_dataflow_region_.add(#__VA_ARGS__, [&]() { __VA_ARGS__; })
#define DATAFLOW_END() stream_dataflow_region_.run();
