"""Model blocks (transformer layers, MoE, CNN stages) as stream-core workloads."""
