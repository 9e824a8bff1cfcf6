import numpy as np
import pytest

from aedetect.exceptions import ConfigError
from aedetect.thresholds import ContaminationThreshold


def test_threshold_flags_the_contaminated_share():
    scores = np.arange(1000, dtype=float)
    thr = ContaminationThreshold(0.05).fit(scores).threshold_
    assert thr == pytest.approx(np.quantile(scores, 0.95))
    assert (scores > thr).sum() == 50


@pytest.mark.parametrize("bad", [0, 0.6, -0.1, "0.1", True])
def test_contamination_outside_range_is_refused(bad):
    with pytest.raises(ConfigError, match="contamination must be in"):
        ContaminationThreshold(bad).fit(np.arange(10.0))
