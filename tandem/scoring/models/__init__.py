"""Scoring's tables, one module per part (rules and scores; the predictive model)."""
