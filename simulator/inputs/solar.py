"""Hourly PV and fuel-cell output for one calendar block.

PV chain (pvlib, all offline):

1. Solar position at the middle of each clock hour (NREL SPA, numpy).
2. Clear-sky GHI from the Ineichen/Perez model with the bundled monthly Linke
   turbidity climatology (``pvlib.clearsky.lookup_linke_turbidity``).
3. A seeded stochastic clear-sky index ``kc`` (see :func:`clear_sky_index`)
   turns clear-sky GHI into all-sky GHI.
4. Erbs decomposition into DNI/DHI, Perez transposition to the plane of array,
   physical IAM on the beam, Faiman cell temperature, PVWatts DC and PVWatts
   inverter (AC clipping at ``capacity_kw / dc_ac_ratio``).

Steps 1-2 are deterministic and cached per (latitude, longitude, altitude,
year) with :func:`functools.lru_cache`, so many plants at one site cost about
3 ms each per year block.

Calibration (defaults, Yangju about 37.83 N 127.06 E, 30 deg south)
-------------------------------------------------------------------
Targets: the Yangju Eunnam public plants (docs/domain.md#cases) report 1,441 kWh/kWp
(reservoir, 1,020 kW -> 1,470 MWh/yr) and 1,314 kWh/kWp (parks, 2,436 kW ->
3,200 MWh/yr); docs/domain.md#solar-yield gives CF 15 % (1,314 kWh/kWp) as the design
assumption, a 14-16 % range and a Global-Solar-Atlas PVOUT of 1,427 kWh/kWp
(CF 16.3 %) at 36.7 N. The default aims at the middle, **1,380 kWh/kWp
(CF 15.8 %)**.

Seasonal shape: docs/domain.md#solar-yield fleet data, in kWh/kWp/day: Jan 2.56 (2021,
worst), Apr 4.80 (2021) and 5.29 (2020, best), May 4.41, Jul 3.11/3.62 and
Aug 3.40/4.13 (2020/2019; July monsoon). Months without a sourced point are
interpolated [E]: target shape (h/day, before scaling to 1,380 kWh/kWp)
Jan 2.56, Feb 3.3, Mar 4.2, Apr 5.0, May 4.5, Jun 4.0, Jul 3.37, Aug 3.77,
Sep 3.6, Oct 3.7, Nov 2.9, Dec 2.6.

The twelve ``monthly_clear_sky_index`` defaults were fitted by fixed-point
iteration (scale each month's kc by target/simulated yield, 40 simulated
years per iteration, seeds 0-39) so that the simulated monthly yields follow
this shape and the annual mean is 1,380 kWh/kWp. Measured with the final
defaults (seeds 0-39, year 2025, 1 kWp at 37.83 N 127.06 E):

- annual mean 1,380 kWh/kWp (CF 15.75 %), inter-annual s.d. 4.0 %
  (P90/P50 about 0.95, a typical bankability figure [E]);
- monthly h/day: Jan 2.67, Feb 3.44, Mar 4.38, Apr 5.22, May 4.69, Jun 4.17,
  Jul 3.51, Aug 3.93, Sep 3.75, Oct 3.86, Nov 3.02, Dec 2.71;
- implied all-sky GHI about 1,450 kWh/m2/yr (clear-sky 2,047), in the range
  of solar-atlas values for central Korea [E];
- public plants with these rooftop defaults: reservoir 1,020 kW -> about 1,408 MWh (published 1,470,
  -4 %), parks 2,436 kW -> about 3,362 MWh (published 3,200, +5 %). With the defaults of their mounts
  (:data:`MOUNT_SOLAR_DEFAULTS`: floating, ground, canopy) the three plants come out within 1 %.

The kc values absorb everything the model does not resolve (row shading,
snow, fleet orientation mix), so they are "effective" indices, not measured
satellite values.
"""
from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from re100sim.simulator.fields import StrictModel
from re100sim.simulator.inputs.calendar import HourlyCalendar
from re100sim.simulator.rng import ar1_stationary

__all__ = [
    "MOUNT_SOLAR_DEFAULTS",
    "Mount",
    "SolarParams",
    "solar_ac_kw",
    "clear_sky_index",
    "fuel_cell_kw",
    "FUEL_CELL_AVAILABILITY_DEFAULT",
    "FUEL_CELL_MEAN_OUTAGE_DAYS_DEFAULT",
]

# Approximate Seoul climate normals, monthly mean air temperature (deg C),
# KMA 1991-2020 [E: not in the sourced defaults, docs/sources.md; only used for the cell-temperature loss].
_SEOUL_MONTHLY_TEMP_C = (-2.0, 0.6, 6.3, 12.9, 18.2, 22.4, 25.5, 26.2, 21.7, 15.0, 7.5, 0.2)

# Monthly mean clear-sky index [D]: fitted so the simulated yields follow the seasonal shape and the
# annual yield of docs/domain.md#solar-yield (the module docstring, "Calibration", gives the fit).
_DEFAULT_MONTHLY_KC = (0.647, 0.654, 0.750, 0.823, 0.756, 0.682,
                       0.592, 0.718, 0.711, 0.789, 0.725, 0.683)


class SolarParams(StrictModel):
    """PV system and cloud-model parameters (defaults: fixed-tilt rooftop/ground PV near Seoul)."""

    tilt_deg: float = Field(
        30.0, ge=0.0, le=90.0,
        description="Module tilt from horizontal, degrees. 30 deg is the usual fixed tilt "
        "at 35-38 N [E].",
    )
    azimuth_deg: float = Field(
        180.0, ge=0.0, lt=360.0,
        description="Module azimuth, degrees clockwise from north (180 = south) [E].",
    )
    altitude_m: float = Field(
        100.0, ge=-100.0, le=5000.0,
        description="Site altitude for the Ineichen clear-sky model, m (Yangju basin about "
        "50-150 m) [E].",
    )
    albedo: float = Field(0.2, ge=0.0, le=1.0, description="Ground albedo (pvlib default grass/urban) [E].")
    losses_pct: float = Field(
        10.0, ge=0.0, lt=100.0,
        description="DC system losses, % (soiling, shading, mismatch, wiring, LID, nameplate, "
        "availability); the PVWatts default total is 14.08 % (pvlib.pvsystem.pvwatts_losses) [E].",
    )
    dc_ac_ratio: float = Field(
        1.0, ge=0.5, le=2.0,
        description="DC nameplate / inverter AC rating. capacity_kw is the DC nameplate (kWp); "
        "the AC rating is capacity_kw / dc_ac_ratio. Korean plants usually size inverters at "
        "the module capacity [E].",
    )
    inverter_efficiency: float = Field(
        0.96, gt=0.5, le=1.0, description="PVWatts nominal inverter efficiency (pvlib default) [E]."
    )
    gamma_pdc_per_c: float = Field(
        -0.0037, ge=-0.01, le=0.0,
        description="Power temperature coefficient of crystalline-Si modules, 1/deg C "
        "(PVWatts standard module) [E].",
    )
    wind_speed_m_per_s: float = Field(
        2.0, ge=0.0, le=30.0, description="Wind speed for the Faiman cell-temperature model, m/s [E]."
    )
    heat_loss_u0: float = Field(
        25.0, gt=0.0, le=100.0,
        description="Faiman constant heat-loss factor, W/m2/K (pvlib default 25.0 for open-rack modules);"
        " higher for modules cooled by water (floating) [E].",
    )
    heat_loss_u1: float = Field(
        6.84, ge=0.0, le=50.0, description="Faiman wind heat-loss factor, W/m2/K per m/s (pvlib default 6.84) [E]."
    )
    monthly_temp_c: tuple[float, ...] = Field(
        _SEOUL_MONTHLY_TEMP_C,
        description="Monthly mean air temperature Jan..Dec, deg C (approximate KMA 1991-2020 "
        "Seoul normals [E]); a diurnal swing of +-diurnal_temp_amplitude_c peaking at 15 h is added.",
    )
    diurnal_temp_amplitude_c: float = Field(
        4.0, ge=0.0, le=15.0, description="Half the daily air-temperature range, deg C [E]."
    )
    # --- cloud model -------------------------------------------------------------
    monthly_clear_sky_index: tuple[float, ...] = Field(
        _DEFAULT_MONTHLY_KC,
        description="Long-run mean hourly clear-sky index kc = GHI/GHI_clear for Jan..Dec. "
        "Fitted so that Yangju yields 1,380 kWh/kWp/yr with the docs/domain.md#solar-yield monthly shape "
        "(best April, worst January, July monsoon dip); see the module docstring.",
    )
    kc_max: float = Field(
        1.05, gt=1.0, le=1.5,
        description="Upper bound of the hourly clear-sky index (cloud enhancement) [E].",
    )
    daily_sd: float = Field(
        1.2, ge=0.0, le=4.0,
        description="Stationary s.d. of the daily clear-sky index in logit space [E]: gives "
        "clear days near kc 0.9 and overcast days near 0.2.",
    )
    daily_autocorr: float = Field(
        0.4, ge=0.0, lt=1.0, description="Day-to-day AR(1) coefficient of the daily index [E]."
    )
    hourly_sd: float = Field(
        0.4, ge=0.0, le=4.0, description="Stationary s.d. of the hourly deviation in logit space [E]."
    )
    hourly_autocorr: float = Field(
        0.7, ge=0.0, lt=1.0, description="Hour-to-hour AR(1) coefficient of the hourly deviation [E]."
    )
    year_sd: float = Field(
        0.10, ge=0.0, le=2.0,
        description="S.d. of a per-block (per-year) offset in logit space: inter-annual "
        "variability. Total annual-yield s.d. about 4 % with the defaults [E].",
    )

    @field_validator("monthly_temp_c")
    @classmethod
    def _twelve_temps(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 12:
            raise ValueError(f"monthly_temp_c has {len(v)} values (expected 12, Jan..Dec)")
        return v

    @model_validator(mode="after")
    def _check_kc(self) -> "SolarParams":
        kc = self.monthly_clear_sky_index
        if len(kc) != 12:
            raise ValueError(f"monthly_clear_sky_index has {len(kc)} values (expected 12, Jan..Dec)")
        for m, v in enumerate(kc, start=1):
            if not 0.0 < v < self.kc_max:
                raise ValueError(
                    f"monthly_clear_sky_index for month {m} is {v} "
                    f"(expected 0 < kc < kc_max = {self.kc_max})"
                )
        return self


Mount = Literal["rooftop", "ground", "floating", "canopy"]

#: SolarParams defaults per mount, on top of the rooftop defaults above, fitted so that the three Yangju
#: Eunnam public plants (docs/domain.md#cases) come out at their published yields (seeds 100-107, 2025,
#: 37.83 N 127.06 E; tests/test_solar.py):
#:
#: - floating (the 1,020 kW plant on a retention pond, published 1,470 MWh = 1,441 kWh/kWp): water-cooled
#:   modules (Faiman u0 35, u1 8 instead of 25 / 6.84: floating arrays run cooler than open-rack ones) and
#:   7.5 % DC losses (no ground shading, less soiling) [E] -> 1,443 kWh/kWp (+0.2 %);
#: - ground (the 2,436 kW park plants, 3,200 MWh = 1,314 kWh/kWp): the PVWatts default total losses,
#:   14.08 % (row and tree shading, long DC runs) [E] -> 1,322 kWh/kWp (+0.6 %);
#: - canopy (the 633.6 kW parking canopy, 830 MWh = 1,310 kWh/kWp): a flat canopy roof tilted 10 deg [E]
#:   -> 1,299 kWh/kWp (-0.9 %);
#: - rooftop: the defaults (30 deg, 10 % losses) -> 1,384 kWh/kWp.
MOUNT_SOLAR_DEFAULTS: dict[str, dict] = {
    "rooftop": {},
    "ground": {"losses_pct": 14.08},
    "floating": {"heat_loss_u0": 35.0, "heat_loss_u1": 8.0, "losses_pct": 7.5},
    "canopy": {"tilt_deg": 10.0},
}


# --------------------------------------------------------------------------------------
# Deterministic, cached part
# --------------------------------------------------------------------------------------


#: Bump when :func:`_clearsky_arrays` changes, so cached files of the old computation are not read.
CLEARSKY_CACHE_VERSION = 1


def clearsky_cache_dir() -> Path | None:
    """Folder of the on-disk clear-sky cache: ``RE100SIM_CACHE_DIR`` (empty: no disk cache), else
    ``$XDG_CACHE_HOME/re100sim`` or ``~/.cache/re100sim``."""
    env = os.environ.get("RE100SIM_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "re100sim"


@lru_cache(maxsize=256)
def _clearsky_year(latitude_deg: float, longitude_deg: float, altitude_m: float, year: int) -> dict:
    """Solar position and Ineichen clear-sky GHI at the middle of each hour of ``year``.

    Returns read-only arrays (one per hour of the year, hour-start index):
    ``zenith``, ``apparent_zenith``, ``azimuth`` (deg), ``ghi_clear`` (W/m2),
    ``dni_extra`` (W/m2), ``airmass`` (relative), ``doy``.

    The solar-position algorithm (NREL SPA) is most of a short run's time and its result depends only
    on the site, the year and the pvlib version, so the arrays are also kept on disk
    (:func:`clearsky_cache_dir`) and read back bit for bit by later runs.
    """
    folder = clearsky_cache_dir()
    key = f"{latitude_deg}_{longitude_deg}_{altitude_m}_{year}_pvlib-{metadata.version('pvlib')}_v{CLEARSKY_CACHE_VERSION}"
    path = folder / f"clearsky_{key}.npz" if folder else None
    out = None
    if path is not None and path.is_file():
        try:
            with np.load(path) as f:
                out = {k: f[k] for k in _CLEARSKY_KEYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            out = None  # unreadable or from an interrupted writer: compute again
    if out is None:
        out = _clearsky_arrays(latitude_deg, longitude_deg, altitude_m, year)
        if path is not None:
            _save_atomic(path, out)
    for a in out.values():
        a.setflags(write=False)
    return out


_CLEARSKY_KEYS = ("zenith", "apparent_zenith", "azimuth", "ghi_clear", "doy", "dni_extra", "airmass")


def _save_atomic(path: Path, arrays: dict) -> None:
    """Write ``arrays`` to ``path`` via a temporary file and a rename (parallel runs never see half a file);
    a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            np.savez(tmp, **arrays)
        os.replace(tmp.name, path)
    except OSError:
        pass


def _clearsky_arrays(latitude_deg: float, longitude_deg: float, altitude_m: float, year: int) -> dict:
    """What :func:`_clearsky_year` returns, computed with pvlib."""
    import pandas as pd  # imported here with pvlib: validating a scenario needs neither
    import pvlib  # pvlib pulls in requests and h5py

    start = pd.Timestamp(year=year, month=1, day=1, tz="Asia/Seoul")
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz="Asia/Seoul")
    mid = pd.date_range(start, end, freq="h", inclusive="left") + pd.Timedelta(minutes=30)
    with warnings.catch_warnings():  # pvlib 0.16 uses pandas APIs deprecated in pandas 3
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        sp = pvlib.solarposition.get_solarposition(mid, latitude_deg, longitude_deg, altitude=altitude_m)
        loc = pvlib.location.Location(latitude_deg, longitude_deg, tz="Asia/Seoul", altitude=altitude_m)
        cs = loc.get_clearsky(mid, model="ineichen", solar_position=sp)
    out = {
        "zenith": sp["zenith"].to_numpy(float),
        "apparent_zenith": sp["apparent_zenith"].to_numpy(float),
        "azimuth": sp["azimuth"].to_numpy(float),
        "ghi_clear": np.nan_to_num(cs["ghi"].to_numpy(float)),
        "doy": mid.day_of_year.to_numpy(np.int32),
    }
    out["dni_extra"] = np.asarray(pvlib.irradiance.get_extra_radiation(out["doy"]), float)
    am = pvlib.atmosphere.get_relative_airmass(out["apparent_zenith"])
    out["airmass"] = np.nan_to_num(np.asarray(am, float), nan=0.0)
    return out


def _hour_of_year(calendar: HourlyCalendar) -> np.ndarray:
    """Index of each calendar hour within its own calendar year (0 = Jan 1, 00 h)."""
    doy = calendar.timestamps.day_of_year.to_numpy(np.int64)
    return (doy - 1) * 24 + calendar.hour.astype(np.int64)


def _site_arrays(calendar: HourlyCalendar, latitude_deg: float, longitude_deg: float,
                 altitude_m: float) -> dict:
    """Cached clear-sky arrays mapped onto the hours of ``calendar``."""
    lat, lon, alt = round(float(latitude_deg), 4), round(float(longitude_deg), 4), round(float(altitude_m), 1)
    years = calendar.year
    hoy = _hour_of_year(calendar)
    uniq = np.unique(years)
    if len(uniq) == 1:
        ya = _clearsky_year(lat, lon, alt, int(uniq[0]))
        return {k: v[hoy] for k, v in ya.items()}
    out = {}
    per_year = {int(y): _clearsky_year(lat, lon, alt, int(y)) for y in uniq}
    for key in per_year[int(uniq[0])]:
        arr = np.empty(len(hoy), dtype=per_year[int(uniq[0])][key].dtype)
        for y, ya in per_year.items():
            sel = years == y
            arr[sel] = ya[key][hoy[sel]]
        out[key] = arr
    return out


# --------------------------------------------------------------------------------------
# Stochastic cloud model
# --------------------------------------------------------------------------------------


_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(64)
_GH_W = _GH_W / _GH_W.sum()


def _expit(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), written as (1 + tanh(z / 2)) / 2: no overflow for any z."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


@lru_cache(maxsize=512)
def _logit_location(mean_kc: float, kc_max: float, total_sd: float) -> float:
    """Location mu with E[kc_max * expit(mu + total_sd * Z)] = mean_kc (Z standard normal)."""
    lo, hi = -30.0, 30.0
    target = mean_kc / kc_max
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if float(np.dot(_GH_W, _expit(mid + total_sd * _GH_X))) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def clear_sky_index(calendar: HourlyCalendar, params: SolarParams, rng: np.random.Generator) -> np.ndarray:
    """Seeded hourly clear-sky index kc = GHI / GHI_clear for one block (unitless, 0..kc_max).

    ``kc = kc_max * expit(mu[month] + y + d[day] + h[hour])`` where ``y`` is a
    per-block offset N(0, year_sd), ``d`` a daily AR(1) (daily_sd,
    daily_autocorr) and ``h`` an hourly AR(1) (hourly_sd, hourly_autocorr),
    each started from its stationary distribution. ``mu[month]`` is solved
    (Gauss-Hermite) so that the long-run mean of kc equals
    ``monthly_clear_sky_index[month]``.

    The draws depend only on the block length and ``params``, so plants at one
    site that are given identically seeded generators share the same weather.
    """
    n = calendar.n_hours
    n_days = -(-n // 24)
    y = params.year_sd * rng.standard_normal()
    d = ar1_stationary(n_days, params.daily_autocorr, params.daily_sd, rng)
    h = ar1_stationary(n, params.hourly_autocorr, params.hourly_sd, rng)
    total_sd = float(np.sqrt(params.year_sd**2 + params.daily_sd**2 + params.hourly_sd**2))
    mu = np.array(
        [_logit_location(float(k), float(params.kc_max), total_sd) for k in params.monthly_clear_sky_index]
    )
    z = mu[calendar.month.astype(np.int64) - 1] + y + d[np.arange(n) // 24] + h
    return params.kc_max * _expit(z)


# --------------------------------------------------------------------------------------
# PV output
# --------------------------------------------------------------------------------------


def solar_ac_kw(
    calendar: HourlyCalendar,
    capacity_kw: float,
    latitude_deg: float,
    longitude_deg: float,
    params: SolarParams,
    rng: np.random.Generator,
    *,
    kc: np.ndarray | None = None,
) -> np.ndarray:
    """Hourly mean AC output, kW (>= 0, <= capacity_kw / dc_ac_ratio <= capacity_kw when ratio >= 1).

    Parameters
    ----------
    calendar : block of hours (hour-start stamps, Asia/Seoul).
    capacity_kw : DC nameplate, kWp (> 0).
    latitude_deg, longitude_deg : site, degrees north / east.
    params : :class:`SolarParams`.
    rng : generator for the cloud model (ignored when ``kc`` is given).
    kc : optional precomputed hourly clear-sky index (from :func:`clear_sky_index`),
        e.g. to give several plants at one site the same weather.

    Returns
    -------
    numpy.ndarray of float, one value per calendar hour, kW AC (energy per hour in kWh).
    """
    if not capacity_kw > 0:
        raise ValueError(f"capacity_kw is {capacity_kw} (expected > 0 kWp)")
    if not (-90.0 <= latitude_deg <= 90.0 and -180.0 <= longitude_deg <= 360.0):
        raise ValueError(f"site ({latitude_deg}, {longitude_deg}) is not a valid latitude/longitude in degrees")
    site = _site_arrays(calendar, latitude_deg, longitude_deg, params.altitude_m)
    if kc is None:
        kc = clear_sky_index(calendar, params, rng)
    elif len(kc) != calendar.n_hours:
        raise ValueError(f"kc has {len(kc)} values (expected {calendar.n_hours}, one per calendar hour)")
    import pvlib  # see _clearsky_year

    ghi = site["ghi_clear"] * np.asarray(kc, float)
    dec = pvlib.irradiance.erbs(ghi, site["zenith"], site["doy"])
    poa = pvlib.irradiance.get_total_irradiance(
        params.tilt_deg, params.azimuth_deg, site["apparent_zenith"], site["azimuth"],
        dec["dni"], ghi, dec["dhi"], dni_extra=site["dni_extra"], airmass=site["airmass"],
        albedo=params.albedo, model="perez",
    )
    aoi = pvlib.irradiance.aoi(params.tilt_deg, params.azimuth_deg, site["apparent_zenith"], site["azimuth"])
    iam = pvlib.iam.physical(aoi)
    eff = np.nan_to_num(poa["poa_direct"] * iam + poa["poa_diffuse"])
    eff = np.maximum(eff, 0.0)
    temps = np.asarray(params.monthly_temp_c, float)[calendar.month.astype(np.int64) - 1]
    temps = temps + params.diurnal_temp_amplitude_c * np.cos(
        2.0 * np.pi * (calendar.hour.astype(float) + 0.5 - 15.0) / 24.0
    )
    tcell = pvlib.temperature.faiman(np.nan_to_num(poa["poa_global"]), temps, params.wind_speed_m_per_s,
                                     params.heat_loss_u0, params.heat_loss_u1)
    pdc = pvlib.pvsystem.pvwatts_dc(eff, tcell, float(capacity_kw), params.gamma_pdc_per_c)
    pdc = np.maximum(np.asarray(pdc, float), 0.0) * (1.0 - params.losses_pct / 100.0)
    ac_rating_kw = float(capacity_kw) / params.dc_ac_ratio
    pac = pvlib.inverter.pvwatts(pdc, ac_rating_kw / params.inverter_efficiency, params.inverter_efficiency)
    pac = np.clip(np.nan_to_num(np.asarray(pac, float)), 0.0, min(ac_rating_kw, float(capacity_kw)))
    return pac


# --------------------------------------------------------------------------------------
# Fuel cell
# --------------------------------------------------------------------------------------

# [E] Stationary fuel cells (PAFC/SOFC) run as base load; a 90 % availability is a
# typical planning value (not in the sourced defaults). Outages as multi-day forced outages.
FUEL_CELL_AVAILABILITY_DEFAULT = 0.90
FUEL_CELL_MEAN_OUTAGE_DAYS_DEFAULT = 3.0


def fuel_cell_kw(
    calendar: HourlyCalendar,
    capacity_kw: float,
    availability: float,
    rng: np.random.Generator,
    *,
    mean_outage_days: float = FUEL_CELL_MEAN_OUTAGE_DAYS_DEFAULT,
) -> np.ndarray:
    """Hourly fuel-cell output, kW: flat at ``capacity_kw`` except on forced-outage days (0 kW).

    Daily two-state Markov chain [E]: an outage lasts on average
    ``mean_outage_days`` days (P(out -> up) = 1/mean_outage_days) and the
    up -> out probability is set so that the stationary up-probability equals
    ``availability``; the first day is drawn from the stationary distribution,
    so the long-run mean output is ``availability * capacity_kw`` in every block.
    Default availability: :data:`FUEL_CELL_AVAILABILITY_DEFAULT` (0.90, [E]).
    """
    if not capacity_kw > 0:
        raise ValueError(f"capacity_kw is {capacity_kw} (expected > 0 kW)")
    if not 0.0 < availability <= 1.0:
        raise ValueError(f"availability is {availability} (expected 0 < availability <= 1)")
    if not mean_outage_days >= 1.0:
        raise ValueError(f"mean_outage_days is {mean_outage_days} (expected >= 1 day)")
    n = calendar.n_hours
    n_days = -(-n // 24)
    u = rng.random(n_days)
    if availability >= 1.0:
        return np.full(n, float(capacity_kw))
    p_recover = 1.0 / mean_outage_days
    p_fail = p_recover * (1.0 - availability) / availability
    if p_fail > 1.0:
        raise ValueError(
            f"availability {availability} with mean_outage_days {mean_outage_days} needs an up->out "
            f"probability of {p_fail:.2f} per day (expected <= 1: raise mean_outage_days)"
        )
    up = np.empty(n_days, dtype=bool)
    state = u[0] < availability
    up[0] = state
    for i in range(1, n_days):  # 366 steps at most per year: cheap
        state = (u[i] >= p_fail) if state else (u[i] < p_recover)
        up[i] = state
    return np.where(up[np.arange(n) // 24], float(capacity_kw), 0.0)
