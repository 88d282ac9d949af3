"""A monitor reads its rows from a file, a folder of Parquet files or a SQL query, and says
which source and column is wrong."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from assay.errors import InputError
from assay.monitoring import MonitorRecords, run_monitor
from assay.store import Store
from tests.monitoring.test_run import START, make_log, spec_for

AS_OF = START + timedelta(weeks=4)


def _values(store: Store) -> list[tuple[str, int, float]]:
    return [(w.result.label, w.result.n, w.result.signals["auroc"].value)
            for w in MonitorRecords(store).windows("readmission-weekly")]


@pytest.fixture
def log() -> pd.DataFrame:
    return make_log(21, weeks=4)


def test_folder_of_parquet_files_and_sql_query_give_the_same_windows(
        tmp_path: Path, log: pd.DataFrame) -> None:
    make_log(22, weeks=8).to_parquet(tmp_path / "reference.parquet")
    folder = tmp_path / "predictions"
    folder.mkdir()
    for week, part in log.groupby(log["predicted_at"].dt.isocalendar().week):
        part.to_parquet(folder / f"week-{week}.parquet")
    database = f"sqlite:///{tmp_path / 'ehr.db'}"
    engine = sa.create_engine(database)
    log.assign(predicted_at=log["predicted_at"].dt.tz_convert(None),
               outcome_known_at=log["outcome_known_at"].dt.tz_convert(None)
               ).to_sql("predictions", engine, index=False)
    engine.dispose()

    results = []
    for source in ({"path": "predictions"},
                   {"sql": "SELECT * FROM predictions WHERE risk IS NOT NULL", "url": database}):
        store = Store.open(f"sqlite:///{tmp_path / (str(len(results)) + '.db')}")
        spec = spec_for(source=source)
        run_monitor(spec, store, as_of=AS_OF + timedelta(weeks=6), end=AS_OF, base=tmp_path)
        results.append(_values(store))
    assert len(results[0]) == 4 and results[0] == results[1]
    assert sum(n for _, n, _ in results[0]) == len(log)


def test_sql_source_errors_name_the_source(tmp_path: Path, log: pd.DataFrame,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    make_log(22, weeks=8).to_parquet(tmp_path / "reference.parquet")
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    missing = spec_for(source={"sql": "SELECT * FROM predictions", "url_env": "EHR_URL"})
    with pytest.raises(InputError, match="environment variable EHR_URL"):
        run_monitor(missing, store, as_of=AS_OF, base=tmp_path)
    monkeypatch.setenv("EHR_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InputError, match=r"SQL query on \$EHR_URL: .*no such table"):
        run_monitor(missing, store, as_of=AS_OF, base=tmp_path)


def test_bad_rows_are_refused_before_anything_is_stored(tmp_path: Path,
                                                        log: pd.DataFrame) -> None:
    make_log(22, weeks=8).to_parquet(tmp_path / "reference.parquet")
    log.loc[5, "outcome"] = 2
    log.to_parquet(tmp_path / "log.parquet")
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    with pytest.raises(InputError, match=r"log.parquet, column 'outcome': labels must be 0 or 1"):
        run_monitor(spec_for(), store, as_of=AS_OF, base=tmp_path)
    log.drop(columns=["lab"]).to_parquet(tmp_path / "log.parquet")
    with pytest.raises(InputError, match=r"uses column\(s\) 'lab'"):
        run_monitor(spec_for(), store, as_of=AS_OF, base=tmp_path)
    assert MonitorRecords(store).windows("readmission-weekly") == []
