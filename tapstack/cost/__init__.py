"""What the stack costs: the dated price table (prices.toml, prices.py), the measured inputs
(measurements.json, measurements.py, written by `make measure`), the line-by-line estimate
(estimate.py), which settings move it most (sensitivity.py), and its rendering (render.py) for
`tapstack cost`, the review report and docs/cost.md."""
