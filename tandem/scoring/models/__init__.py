from tandem.scoring.models.predictive import ModelMethod, ModelVersion, PersonPrediction  # noqa: F401
