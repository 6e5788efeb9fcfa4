"""Errors a user can cause: each message names the file or config field and says what to do."""


class StudyInputError(ValueError):
    """Bad input to the study: a config field, a dataset path, an audio file or a label column."""
