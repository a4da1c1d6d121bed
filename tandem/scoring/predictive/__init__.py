"""Predictive scoring (issue 19, points 6-10): a model measured before it is trusted."""
