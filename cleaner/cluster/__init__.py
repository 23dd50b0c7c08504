"""run --cluster: the analysis on Ray workers; deciding and recording stay on the driver."""
