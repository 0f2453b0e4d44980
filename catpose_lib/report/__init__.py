"""Reports: block tables and figures, the final study report (what the notebooks render)."""
