"""corten's operations. Each module defines differentiable ops as Functions
(forward and backward side by side) and attaches the matching Tensor methods."""
