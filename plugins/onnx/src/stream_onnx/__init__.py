"""stream-onnx: the ONNX workload parser of stream-core.

Op parsers are plugins (hook ``stream_register_op_parsers``, which stream-onnx declares in
:mod:`stream_onnx.hookspecs`); :mod:`stream_onnx.api` is the public interface for writing one.
"""
