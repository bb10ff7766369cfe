"""CACL tests: memory bank, sampler, loss, resume, distributed."""
