"""Scores that advise and people who decide: rule scores with their explanation, overrides, backtests, a predictive model."""
