"""Vectorized NumPy reference solutions, one module per exercise slug."""
