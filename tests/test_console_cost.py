"""The run's cost table shows the frozen encoder, its weights and the rows read from the row cache."""

from rich.console import Console

from toolkit.console import cost_table
from toolkit.cost import Cost, encoder_footprint


def _render(result) -> str:
    console = Console(record=True, width=200)
    console.print(cost_table(result))
    return console.export_text()


def test_encoder_cost_and_rows_are_shown():
    cost = Cost(featurize_s={"distilbert": 1.5}, params=410, frozen_params=22_713_216, weights_bytes=91_618_964)
    text = _render({"cost": cost.to_dict(),
                    "rows": {"distilbert": {"computed": 0, "from_cache": 3000, "texts_embedded": 0, "seconds": 0.0}}})
    assert "22,713,216" in text and "91.62 MB" in text and "410" in text
    assert "0 new, 3,000 cached" in text


def test_runs_recorded_before_these_fields_still_show():
    old = Cost().to_dict()
    del old["frozen_params"], old["weights_bytes"]
    assert "frozen parameters" in _render({"cost": old})


class _Encoder:
    def __init__(self, model, params, size):
        self.model, self._params, self._size = model, params, size

    def frozen_params(self):
        return self._params

    def weights_bytes(self):
        return self._size


def test_encoder_footprint_counts_one_model_folder_once():
    fp32, int8, none = _Encoder("wheel:m", 100, 5000), _Encoder("wheel:m", 100, 5000), _Encoder("x", 0, 0)
    assert encoder_footprint([fp32, int8, none]) == (200, 5000)
