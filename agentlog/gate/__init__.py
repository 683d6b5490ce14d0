"""The regression gate: compare a run with its baseline and fail CI on the rules a team sets."""
