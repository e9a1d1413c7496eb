"""Default figures of AMD's AIE-ML (AIE2, Ryzen AI "Phoenix"/XDNA1) and AIE-ML v2 (AIE2p,
"Strix"/XDNA2) tiles, each with its source. A core file overrides any of them (see ``schema``).

Sources:

* AM020 = AMD "Versal Adaptive SoC AIE-ML Architecture Manual" (summary table, "AIE-ML Processor",
  "AIE-ML Tile Architecture", memory-tile and interface-tile chapters).
* UG1603 = AMD "AI Engine-ML Kernel and Graph Programming Guide".
* XD100 = AMD Vitis Tutorials: AI Engine (AIE-ML architecture and DMA pages).
* Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm energies; AMD publishes none per MAC).

Where Stream (KULeuven-MICAS/stream v1.13.14) uses other constants we keep AMD's; the README lists
every difference and why.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

#: Tile generations; a core file picks one with ``architecture`` (default ``aie-ml``).
ARCHITECTURES: Final = ("aie-ml", "aie-ml-v2")
DEFAULT_ARCHITECTURE: Final = "aie-ml"

#: Data types the cost model knows (ONNX ``bfloat16``/``float32`` are ``bf16``/``fp32`` here).
DTYPES: Final = ("int8", "int16", "bf16", "fp32")


#: Peak multiply-accumulates per cycle and tile, per operand data type.
PEAK_MACS: Final = MappingProxyType(
    {
        "aie-ml": MappingProxyType(
            {
                # AM020 "AIE-ML Processor": 256 8b x 8b MACs per cycle.
                "int8": 256.0,
                # AM020 summary table: 128 INT16 operations/tile = 64 MACs.
                "int16": 64.0,
                # AM020 "AIE-ML Processor": 128 bfloat16 MACs with FP32 accumulation (4x8x4 VMAC).
                # Stream uses 32 "ops/cycle" for bf16 on aie2 (4x below this peak).
                "bf16": 128.0,
                # AM020 summary table: 42 FP32 operations/tile in emulation mode = 21 MACs
                # (FP32 is decomposed into bf16 products; footnote 3). Stream uses 16.
                "fp32": 21.0,
            }
        ),
        "aie-ml-v2": MappingProxyType(
            {
                # 8x8x8 int8 VMAC = 512 MAC/cycle; consistent with XDNA2's 50 int8 TOPS over 32
                # tiles at ~1.5 GHz (32 x 512 x 2 x 1.5e9 = 49e12).
                "int8": 512.0,
                # No published AIE-ML v2 figure: AIE-ML's value (conservative).
                "int16": 64.0,
                # 4x8x8 bf16 VMAC = 256 MAC/cycle (the MAC shape of Stream's AIE2p bf16 kernels).
                "bf16": 256.0,
                # No published AIE-ML v2 figure: AIE-ML's emulated value (conservative).
                "fp32": 21.0,
            }
        ),
    }
)

#: Element-wise (vector-unit) results per cycle, per data type. An element-wise kernel stores one
#: result per point, and the AIE-ML store unit writes 256 bits per cycle (AM020 summary table:
#: "Memory load/store per cycle 512/256 bits"): 256 / bits lanes. bf16 gives 16, the lane count of
#: Stream's AIE2p element-wise kernels. No AIE-ML v2 figure is published: the same values.
VECTOR_LANES: Final = MappingProxyType(
    {arch: MappingProxyType({"int8": 32.0, "int16": 16.0, "bf16": 16.0, "fp32": 8.0}) for arch in ARCHITECTURES}
)

#: Stream-switch (and DMA channel) width in bits per cycle: 32 on AIE-ML (AM020 summary table, tile
#: stream interface 32-bit; AM020 interface tile: 4 B/cycle per shim DMA channel), 64 on AIE-ML v2
#: (UG1603 / AM020 notes on AIE-ML v2). Stream writes 64 for every link.
STREAM_BITS: Final = MappingProxyType({"aie-ml": 32, "aie-ml-v2": 64})

#: DMA channels per tile kind: (MM2S out, S2MM in).
#: compute: 2 + 2 (XD100 "AI Engine-ML" DMA; AM020 tile DMA). Stream caps compute tiles at 8.
#: memory: 6 + 6 (AM020 memory tile; XD100). Stream agrees (6).
#: shim: 2 + 2 (AM020 interface tile DMA; XD100). Stream agrees (2).
DMA_CHANNELS: Final = MappingProxyType({"compute": (2, 2), "memory": (6, 6), "shim": (2, 2)})

#: Buffer descriptors per tile kind: compute 16 (XD100), memory tile 48 (AM020; XD100),
#: shim 16 (AM020 interface tile DMA). Stream caps BDs with max_object_fifo_depth: 12 / 48 / 48.
BUFFER_DESCRIPTORS: Final = MappingProxyType({"compute": 16, "memory": 48, "shim": 16})

#: Bytes of a compute tile's 64 KB data memory the kernel cannot use for operands: the core's stack,
#: mlir-aie's default ``aie.core`` ``stack_size`` of 0x400 bytes. Other kinds run no program: 0.
RESERVED_BYTES: Final = MappingProxyType({"compute": 1024, "memory": 0, "shim": 0})

#: Cycles per kernel invocation outside the MAC/vector loop (call and return, lock acquire/release
#: of the operand object FIFOs, loop prologue/epilogue). An uncalibrated seed: mlir-aie PR #1763
#: puts the call latency alone at >= 6 cycles; three lock pairs and the MAC pipeline fill/drain
#: bring it to a few tens. Calibrate with ``kernel_call_overhead`` in the core file.
KERNEL_CALL_OVERHEAD: Final = 32

#: Kernel efficiency used when neither the mapping's kernel kwargs nor the core file give a
#: ``utilization``: MAC ops 80 % (the best in-kernel utilisation of mlir-aie's hand-written matmul
#: kernels, ideal m*n*k/(r*s*t) cycles against traced kernel time, Xilinx/mlir-aie issue #2735;
#: data movement is costed separately); vector ops 50 % (the value Stream's generators give silu and
#: eltwise_mul kernels; no AMD figure). The run warns whenever these are used.
DEFAULT_EFFICIENCY: Final = MappingProxyType({"mac": 0.80, "vector": 0.50})

#: Energy per MAC in pJ (Horowitz 45 nm: 8b mult 0.2 + 32b add 0.1 for int8; 16b mult ~0.8
#: (quadratic interpolation between 8b 0.2 and 32b 3.1) + 0.1 for int16; 16b FP mult 1.1 + 32b FP
#: add 0.9 for bf16 with FP32 accumulation; fp32 is emulated on the bf16 datapath at 21 instead of
#: 128 MAC/cycle, so ~6.1x the bf16 energy). Element-wise ops use the same figure per element-op.
MAC_PJ: Final = MappingProxyType({"int8": 0.3, "int16": 0.9, "bf16": 2.0, "fp32": 12.2})

#: Energy per byte read or written, pJ (Horowitz 45 nm: 64-bit read of an 8 KB SRAM 10 pJ, the
#: compute tile's data memory banks are 8 KB (AM020); 32 KB SRAM 20 pJ, the memory tile has
#: 16 x 32 KB banks; DRAM 1.3-2.6 nJ per 64 bits, the lower bound, for the shim's DDR side).
BYTE_PJ: Final = MappingProxyType({"compute": 1.25, "memory": 2.5, "shim": 162.5})

#: Vector-unit operations per iteration point of non-MAC ops (1 when not listed). Exponential-like
#: functions take 4 (Stream's ``cc_per_op`` for silu/sigmoid/exp); the normalisations count their
#: parts (Softmax: max, subtract, exp 4, sum, divide = 8; LogSoftmax: Softmax + log 4 = 12;
#: LayerNormalization: mean, subtract, square, sum, scale, shift, multiply = 7; RMSNormalization:
#: square, sum, scale, multiply = 4; BatchNormalization: scale, shift = 2; HardSwish: a clip and a
#: multiply = 2; Div, Reciprocal, Sqrt, Log and Pow are iterative on the vector unit: 4).
OPS_PER_POINT: Final = MappingProxyType(
    {
        "Exp": 4,
        "Sigmoid": 4,
        "Silu": 4,
        "Swish": 4,
        "HardSwish": 2,
        "Gelu": 4,
        "Tanh": 4,
        "Erf": 4,
        "Log": 4,
        "Sqrt": 4,
        "Reciprocal": 4,
        "Div": 4,
        "Pow": 4,
        "Softmax": 8,
        "LogSoftmax": 12,
        "LayerNormalization": 7,
        "RMSNormalization": 4,
        "BatchNormalization": 2,
    }
)


def ops_per_point(op_type: str) -> int:
    return OPS_PER_POINT.get(op_type, 1)
