"""The poster's clock: posting hours on the time zone of the post's IP location (``data.local_time: ip``).

A crawl writes every time on one clock (``data.timezone``), but a post at 03:00
Beijing time is an afternoon post in New York. With ``data.local_time: ip``,
posting-hour features are cut on a zone derived from the post's IP location
(``ip_location``, the crawl's ``ip_localtion``) where that names a place with
**one** time zone, and on the data's clock otherwise. Calendar days (cohort,
observation and label windows) stay on ``data.timezone``.

The table is small and documented, not a gazetteer:

* mainland Chinese provinces, municipalities and regions (Chinese or pinyin
  names, with or without 省/市/自治区) -> ``Asia/Shanghai`` (China keeps one
  official zone; Xinjiang's unofficial UTC+6 is ignored);
* Hong Kong, Macau, Taiwan and countries with one zone (Japan, Korea, the UK,
  most of Europe, South and South-East Asia, New Zealand ...);
* US states with one zone (California, New York, Arizona ...);
* places with **several** zones (the United States as a whole, ``U.S.``,
  Canada, Australia, Russia, Brazil, Mexico, Indonesia) are not mapped: the
  data's clock is kept for them, unless the spec names a zone for the place in
  ``data.ip_zones`` (e.g. ``{U.S.: America/Chicago}``, a central compromise that
  is at most two hours off in the contiguous states). The approximation is the
  researcher's choice, written in the spec.

IP location is where the connection came from, not where the person lives
(VPNs, travel): the hours are an approximation either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.data.clock import parse_timezone

SHANGHAI = "Asia/Shanghai"
_PROVINCES = {
    "北京": "beijing", "天津": "tianjin", "上海": "shanghai", "重庆": "chongqing", "河北": "hebei", "山西": "shanxi",
    "辽宁": "liaoning", "吉林": "jilin", "黑龙江": "heilongjiang", "江苏": "jiangsu", "浙江": "zhejiang",
    "安徽": "anhui", "福建": "fujian", "江西": "jiangxi", "山东": "shandong", "河南": "henan", "湖北": "hubei",
    "湖南": "hunan", "广东": "guangdong", "海南": "hainan", "四川": "sichuan", "贵州": "guizhou", "云南": "yunnan",
    "陕西": "shaanxi", "甘肃": "gansu", "青海": "qinghai", "内蒙古": "inner mongolia", "广西": "guangxi",
    "西藏": "tibet", "宁夏": "ningxia", "新疆": "xinjiang", "中国": "china",
}
_ONE_ZONE = {
    ("香港", "hong kong"): "Asia/Hong_Kong", ("澳门", "macau", "macao"): "Asia/Macau", ("台湾", "taiwan"): "Asia/Taipei",
    ("日本", "japan"): "Asia/Tokyo", ("韩国", "south korea", "korea"): "Asia/Seoul",
    ("英国", "uk", "u.k.", "united kingdom", "britain"): "Europe/London", ("爱尔兰", "ireland"): "Europe/Dublin",
    ("德国", "germany"): "Europe/Berlin", ("法国", "france"): "Europe/Paris", ("意大利", "italy"): "Europe/Rome",
    ("荷兰", "netherlands"): "Europe/Amsterdam", ("瑞士", "switzerland"): "Europe/Zurich",
    ("瑞典", "sweden"): "Europe/Stockholm", ("新加坡", "singapore"): "Asia/Singapore",
    ("马来西亚", "malaysia"): "Asia/Kuala_Lumpur", ("泰国", "thailand"): "Asia/Bangkok",
    ("越南", "vietnam", "viet nam"): "Asia/Ho_Chi_Minh", ("菲律宾", "philippines"): "Asia/Manila",
    ("印度", "india"): "Asia/Kolkata", ("新西兰", "new zealand"): "Pacific/Auckland",
    ("加利福尼亚", "加州", "california"): "America/Los_Angeles", ("华盛顿州", "washington state"): "America/Los_Angeles",
    ("内华达", "nevada"): "America/Los_Angeles", ("纽约", "new york"): "America/New_York",
    ("新泽西", "new jersey"): "America/New_York", ("宾夕法尼亚", "pennsylvania"): "America/New_York",
    ("马萨诸塞", "massachusetts"): "America/New_York",
    ("弗吉尼亚", "virginia"): "America/New_York", ("北卡罗来纳", "north carolina"): "America/New_York",
    ("俄亥俄", "ohio"): "America/New_York", ("伊利诺伊", "illinois"): "America/Chicago",
    ("明尼苏达", "minnesota"): "America/Chicago", ("科罗拉多", "colorado"): "America/Denver",
    ("犹他", "utah"): "America/Denver", ("亚利桑那", "arizona"): "America/Phoenix",
    ("夏威夷", "hawaii"): "Pacific/Honolulu",
}
#: places with several zones: kept on the data's clock unless ``data.ip_zones`` names one
SEVERAL_ZONES = {
    ("美国", "u.s.", "us", "usa", "u.s.a.", "united states", "america"):
        ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
         "America/Anchorage", "Pacific/Honolulu"),
    ("加拿大", "canada"): ("America/St_Johns", "America/Halifax", "America/Toronto", "America/Winnipeg",
                          "America/Edmonton", "America/Vancouver"),
    ("澳大利亚", "澳洲", "australia"): ("Australia/Sydney", "Australia/Adelaide", "Australia/Brisbane",
                                     "Australia/Darwin", "Australia/Perth"),
    ("俄罗斯", "russia"): ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk",
                         "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan"),
    ("巴西", "brazil"): ("America/Noronha", "America/Sao_Paulo", "America/Manaus", "America/Rio_Branco"),
    ("墨西哥", "mexico"): ("America/Cancun", "America/Mexico_City", "America/Chihuahua", "America/Tijuana"),
    ("印度尼西亚", "印尼", "indonesia"): ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"),
}


def _key(place) -> str:
    text = str(place).strip().casefold() if isinstance(place, str) else ""
    for suffix in ("省", "市", "自治区", "特别行政区", "壮族", "回族", "维吾尔"):
        text = text.removesuffix(suffix)
    return text


def _table() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    one = {}
    for zh, pinyin in _PROVINCES.items():
        one[zh] = one[pinyin] = SHANGHAI
    for names, zone in _ONE_ZONE.items():
        one.update({n: zone for n in names})
    several = {n: zones for names, zones in SEVERAL_ZONES.items() for n in names}
    return one, several


ONE_ZONE, MANY_ZONES = _table()


def place_zones(place, overrides: dict[str, str] | None = None) -> tuple[str, ...]:
    """The zones a place may be on: one (mapped), several (not mapped), or none (unknown place)."""
    key = _key(place)
    mapped = {_key(k): v for k, v in (overrides or {}).items()}
    if key in mapped:
        return (mapped[key],)
    if key in ONE_ZONE:
        return (ONE_ZONE[key],)
    return MANY_ZONES.get(key, ())


def local_hours(times: pd.Series, places: pd.Series, timezone: str, mode: str = "data",
                overrides: dict[str, str] | None = None) -> pd.Series:
    """Hour of day (0-24, minutes as a fraction) of each post on the poster's clock.

    Args:
        times: naive post times on ``timezone``'s clock.
        places: the posts' IP locations (aligned with ``times``).
        mode: ``data`` (the data's clock for every post) or ``ip`` (a place's one zone where it has one).
        overrides: ``data.ip_zones``, place -> zone, for places the table leaves on the data's clock.
    """
    times = pd.Series(times)
    hours = times.dt.hour + times.dt.minute / 60.0
    if mode != "ip" or times.empty:
        return hours
    places = pd.Series(places, index=times.index).fillna("").astype(str)
    one = {p: z[0] if len(z) == 1 else "" for p in places.unique() for z in [place_zones(p, overrides)]}
    zones = places.map(one)
    clock = parse_timezone(timezone)
    for zone in zones.unique():
        if not zone:
            continue
        rows = (zones == zone).to_numpy()
        stamps = times[rows].dt.tz_localize(clock, ambiguous="NaT", nonexistent="shift_forward")
        there = stamps.dt.tz_convert(parse_timezone(zone))
        converted = there.dt.hour + there.dt.minute / 60.0
        hours[rows] = np.where(converted.isna(), hours[rows], converted)
    return hours


def disagreement(times: pd.Series, places: pd.Series, timezone: str) -> dict:
    """How many posts name a known place none of whose zones has ``timezone``'s UTC offset at that time.

    Returns ``{"known": posts with a place in the table, "disagree": of those, "places": the top such places}``.
    """
    clock = parse_timezone(timezone)
    frame = pd.DataFrame({"time": pd.Series(times).to_numpy(), "place": pd.Series(places).to_numpy()})
    known = disagree = 0
    counts: dict[str, int] = {}
    for place, group in frame.groupby("place", sort=False):
        zones = place_zones(place)
        if not zones:
            continue
        stamps = pd.Series(group["time"]).dt.tz_localize(clock, ambiguous="NaT", nonexistent="shift_forward")
        own = stamps.map(lambda t: t.utcoffset() if pd.notna(t) else None)
        same = np.zeros(len(group), dtype=bool)
        for zone in zones:
            there = stamps.dt.tz_convert(parse_timezone(zone)).map(lambda t: t.utcoffset() if pd.notna(t) else None)
            same |= (there == own).to_numpy()
        known += len(group)
        if (~same).sum():
            disagree += int((~same).sum())
            counts[str(place)] = int((~same).sum())
    top = sorted(counts, key=counts.get, reverse=True)[:3]
    return {"known": known, "disagree": disagree, "places": top}
