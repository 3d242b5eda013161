"""Hypothesis strategies shared by the tests (the profile is in conftest.py)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

floats = st.floats(-1e3, 1e3, width=32)
small_floats = st.floats(-2, 2, allow_nan=False)
# 1-3 dimensions of 0-5: empty tensors included.
small_shapes = array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)
small_arrays = arrays(np.float32, small_shapes, elements=floats)
matrix_shapes = array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8)
# Logits of a batch: float64, (n, classes), moderate values.
logits = arrays(np.float64, matrix_shapes, elements=st.floats(-50, 50))
# float32 logits up to 1e4, where a naive exp overflows.
wide_logits = arrays(np.float32, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
                     elements=st.floats(-1e4, 1e4, width=32))
