"""stream-itensor: StreamTensor-style iterative tensor typing, converters, fusion and LP FIFO sizing.

The stable public API is :mod:`stream_itensor.api`; this package module imports nothing so that
listing plugins stays fast.
"""
