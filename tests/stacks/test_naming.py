"""Names the deploy workflow generates stay within SageMaker's limit for every profile name it accepts."""

from __future__ import annotations

import re

import pytest

from stacks.naming import RUN_ID_LENGTH, SAGEMAKER_NAME_MAX, generated_prefix

SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def test_generated_names_are_scoped_to_the_profile_and_valid_for_sagemaker() -> None:
    prefix = generated_prefix("sandbox")
    assert prefix == "mlops-demo-sandbox-"
    assert SAGEMAKER_NAME.match(prefix + "0" * RUN_ID_LENGTH)


def test_the_longest_accepted_profile_fits_and_one_more_character_is_refused_with_the_limit() -> None:
    longest = "p" * (SAGEMAKER_NAME_MAX - RUN_ID_LENGTH - len("mlops-demo--"))
    assert len(generated_prefix(longest) + "0" * RUN_ID_LENGTH) == SAGEMAKER_NAME_MAX
    with pytest.raises(ValueError, match=rf"exceed SageMaker's 63 characters; use a profile name of at most "
                                         rf"{len(longest)} characters"):
        generated_prefix(longest + "p")
