"""Result tables as Arrow tables for Parquet: units and descriptions as column (field) metadata.

Every Parquet file the experiment layer writes carries, for each column it knows, ``unit`` and
``description`` in the field's metadata (``pyarrow.parquet.read_schema(path).field("gini").metadata``).
Nothing here lists the model's columns: a unit is read from the column name's suffix, the naming
rule of the model's tables (``_cny_bn`` CNY billion, ``_m`` million, ``_k`` thousand, ``_share``
a share...), so new model columns get their unit without a change here; descriptions are given
for the columns the experiment layer itself adds (labels, the ``runs`` table) and for a few
model columns whose meaning is stable.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["annotate", "describe_column", "to_arrow"]

SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_cny_bn", "CNY billion"),
    ("_cny", "CNY"),
    ("_share", "share (0-1)"),
    ("_ratio", "ratio"),
    ("_rate", "rate per year"),
    ("_growth", "growth rate per year"),
    ("_m", "million people"),
    ("_k", "thousand people"),
)
"""Column-name suffix -> unit (first match wins)."""

EXACT_UNITS: dict[str, str] = {
    "year": "calendar year",
    "gini": "index (0-1)",
    "theil": "index",
    "cv": "coefficient of variation",
    "research_output": "papers per year",
    "research_rank": "rank (1 = most papers)",
    "institutes": "count",
    "interior_in_top10": "count of provinces",
    "interior_in_top20": "count of provinces",
    "openness": "index (0-1)",
    "start_year": "calendar year",
    "end_year": "calendar year",
}

DESCRIPTIONS: dict[str, str] = {
    "run_id": "position of the run in the run list (for per-point tables: the design point)",
    "scenario": "name of the scenario the run belongs to",
    "replicate": "replicate of the run within its scenario and sweep point (0-based)",
    "status": "'ok' or 'failed'",
    "error": "empty, or the exception type, message and where it was raised",
    "seed_entropy": "entropy of the run's numpy SeedSequence",
    "spawn_key": "spawn key of the run's numpy SeedSequence (comma-separated)",
    "scenario_file": "the scenario file",
    "start_year": "first simulated year",
    "end_year": "last simulated year",
    "year": "simulated year",
    "province": "province (or synthetic region) name",
    "gdp_real_cny_bn": "real GDP: chained volume in CNY billion of the start year (the headline)",
    "gdp_nominal_cny_bn": "GDP at the model's prices of the year",
    "gdp_cny_bn": "gross domestic (regional) product",
    "gdp_per_capita_cny": "real GDP per person (chained volume, CNY of the start year)",
    "gini": "population-weighted Gini index of real GDP per person across provinces",
    "theil": "Theil index of real GDP per person across provinces",
    "own_science_cny_bn": "science money the province paid itself",
    "central_tax_cny_bn": "the province's share of financing the centre's science pool (by GDP)",
    "instruments_cny_bn": "strategy instruments beyond the science budget (fund equity, incentives, segment equity)",
    "proceeds_cny_bn": "money returned by instruments (fund stakes sold)",
    "cost_provincial_cny_bn": "what the province paid: own science + central share + instruments - proceeds",
    "cost_central_cny_bn": "central science money spent in the province",
    "cost_foreign_cny_bn": "foreign money: multinational labs' capacity and capital",
    "investment_cut_cny_bn": "physical investment given up to pay the province's costs",
    "consumption_cut_cny_bn": "consumption given up where investment could not cover the costs",
    "theil_between_region": "Theil index: part between the four NBS regions",
    "theil_within_region": "Theil index: part within the four NBS regions",
    "coast_interior_ratio": "GDP per capita of the coast over that of the interior",
    "research_output": "research papers produced",
    "interior_research_share": "share of research output produced in interior provinces",
    "population_m": "population",
    "type": "event type",
    "detail": "what happened",
}


@lru_cache(maxsize=4096)
def describe_column(name: str) -> tuple[str, str]:
    """``(unit, description)`` of a column ('' when unknown); ``final_x`` is the end-year value of ``x``."""
    base = name[len("final_"):] if name.startswith("final_") else name
    unit = EXACT_UNITS.get(base, "")
    if not unit:
        for suffix, suffix_unit in SUFFIX_UNITS:
            if base.endswith(suffix):
                unit = suffix_unit
                break
    description = DESCRIPTIONS.get(name, "")
    if not description and base != name and base in DESCRIPTIONS:
        description = f"{DESCRIPTIONS[base]}, in the end year"
    if not description and "__" in name:
        description = f"swept scenario value {name.replace('__', '.')}"
    return unit, description


def annotate(table: pa.Table) -> pa.Table:
    """``table`` with ``unit`` and ``description`` in the metadata of each column that has them."""
    fields = []
    changed = False
    for field in table.schema:
        unit, description = describe_column(field.name)
        if not (unit or description):
            fields.append(field)
            continue
        metadata = dict(field.metadata or {})
        if unit:
            metadata[b"unit"] = unit.encode()
        if description:
            metadata[b"description"] = description.encode()
        changed = changed or metadata != (field.metadata or {})
        fields.append(field.with_metadata(metadata))
    if not changed:
        return table
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields, metadata=table.schema.metadata))


_SCHEMAS: dict[tuple[tuple[str, str], ...], pa.Schema] = {}
"""Arrow schema (with pandas metadata and column metadata) by a frame's columns and dtypes."""


def _column(series: pd.Series) -> pa.Array:
    """A column as ``pa.Table.from_pandas`` converts it (NaN in floats becomes null, as there)."""
    values = series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
    return pa.array(values, from_pandas=True)


def to_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A table as Parquet stores it (pandas metadata kept), with units and descriptions on its columns.

    The first frame of each set of columns and dtypes goes through ``pa.Table.from_pandas``; later
    ones reuse its schema (pandas metadata included) and convert column by column, which gives the
    same table at a fraction of the cost (``from_pandas`` spends most of its time describing columns).
    """
    if isinstance(frame, pa.Table):
        return annotate(frame)
    key = tuple((str(name), str(dtype)) for name, dtype in frame.dtypes.items())
    schema = _SCHEMAS.get(key)
    if schema is not None and frame.columns.is_unique:
        arrays = []
        for name, field in zip(frame.columns, schema, strict=True):
            array = _column(frame[name])
            if array.type != field.type:
                break
            arrays.append(array)
        else:
            return pa.Table.from_arrays(arrays, schema=schema)
    table = annotate(pa.Table.from_pandas(frame, preserve_index=False))
    plain = all(isinstance(d, (np.dtype, pd.StringDtype)) for d in frame.dtypes)  # no categories, no time zones
    if plain and len(_SCHEMAS) < 256:
        _SCHEMAS[key] = table.schema
    return table
