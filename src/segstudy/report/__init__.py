"""The report: tables beside the papers' numbers, figures, protocol, plain verdicts."""
