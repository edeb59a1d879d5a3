"""Write realistic GIAS establishment CSV files for tests and benchmarks.

The header is the real 139-column GIAS extract header (copied here so nothing depends on
/work/shared). Values are fictional but shaped like the real ones: Windows-1252 text with a
curly apostrophe in saints' names, LA codes as text (one, "000", with leading zeros), a few
closed schools with close dates, special schools and alternative provision whose phase is
"Not applicable", academies in trusts, National Grid coordinates inside each LA's area, and
head teachers' names and telephone numbers that a reader must never pick up.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

__all__ = ["GIAS_HEADER", "gias_rows", "write_gias_csv"]

# fmt: off
GIAS_HEADER: tuple[str, ...] = (
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (code)", "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)", "EstablishmentStatus (code)", "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (code)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (code)", "ReasonEstablishmentClosed (name)", "CloseDate",
    "PhaseOfEducation (code)", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge",
    "Boarders (code)", "Boarders (name)", "NurseryProvision (name)", "OfficialSixthForm (code)",
    "OfficialSixthForm (name)", "Gender (code)", "Gender (name)", "ReligiousCharacter (code)",
    "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (code)", "Diocese (name)",
    "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity",
    "SpecialClasses (code)", "SpecialClasses (name)", "CensusDate", "NumberOfPupils",
    "NumberOfBoys", "NumberOfGirls", "PercentageFSM", "TrustSchoolFlag (code)",
    "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)", "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)", "Federations (name)",
    "UKPRN", "FEHEIdentifier", "FurtherEducationType (name)", "OfstedLastInsp",
    "OfstedSpecialMeasures (code)", "OfstedSpecialMeasures (name)", "LastChangedDate", "Street",
    "Locality", "Address3", "Town", "County (name)", "Postcode", "SchoolWebsite", "TelephoneNum",
    "HeadTitle (name)", "HeadFirstName", "HeadLastName", "HeadPreferredJobTitle",
    "BSOInspectorateName (name)", "InspectorateReport", "DateOfLastInspectionVisit",
    "NextInspectionVisit", "TeenMoth (name)", "TeenMothPlaces", "CCF (name)", "SENPRU (name)",
    "EBD (name)", "PlacesPRU", "FTProv (name)", "EdByOther (name)", "Section41Approved (name)",
    "SEN1 (name)", "SEN2 (name)", "SEN3 (name)", "SEN4 (name)", "SEN5 (name)", "SEN6 (name)",
    "SEN7 (name)", "SEN8 (name)", "SEN9 (name)", "SEN10 (name)", "SEN11 (name)", "SEN12 (name)",
    "SEN13 (name)", "TypeOfResourcedProvision (name)", "ResourcedProvisionOnRoll",
    "ResourcedProvisionCapacity", "SenUnitOnRoll", "SenUnitCapacity", "GOR (code)", "GOR (name)",
    "DistrictAdministrative (code)", "DistrictAdministrative (name)", "AdministrativeWard (code)",
    "AdministrativeWard (name)", "ParliamentaryConstituency (code)",
    "ParliamentaryConstituency (name)", "UrbanRural (code)", "UrbanRural (name)",
    "GSSLACode (name)", "Easting", "Northing", "CensusAreaStatisticWard (name)", "MSOA (name)",
    "LSOA (name)", "InspectorateName (name)", "SENStat", "SENNoStat",
    "BoardingEstablishment (name)", "PropsName", "PreviousLA (code)", "PreviousLA (name)",
    "PreviousEstablishmentNumber", "OfstedRating (name)", "RSCRegion (name)", "Country (name)",
    "UPRN", "SiteName", "QABName (code)", "QABName (name)", "EstablishmentAccredited (code)",
    "EstablishmentAccredited (name)", "QABReport", "CHNumber", "MSOA (code)", "LSOA (code)",
)
# fmt: on

_COL = {name: i for i, name in enumerate(GIAS_HEADER)}

# (LA code, LA name, GOR code, GOR name, GSS code, postcode area, easting range, northing range)
_LAS: tuple[tuple[str, str, str, str, str, str, tuple[int, int], tuple[int, int]], ...] = (
    ("352", "Manchester", "B", "North West", "E08000003", "M", (380000, 392000), (390000, 405000)),
    ("351", "Bury", "B", "North West", "E08000002", "BL", (375000, 387000), (405000, 418000)),
    ("358", "Trafford", "B", "North West", "E08000009", "M", (370000, 382000), (388000, 398000)),
    ("202", "Camden", "H", "London", "E09000007", "NW", (524000, 531000), (181000, 187000)),
    (
        "330",
        "Birmingham",
        "F",
        "West Midlands",
        "E08000025",
        "B",
        (400000, 415000),
        (280000, 295000),
    ),
    (
        "380",
        "Bradford",
        "D",
        "Yorkshire and the Humber",
        "E08000032",
        "BD",
        (405000, 420000),
        (430000, 445000),
    ),
    (
        "391",
        "Newcastle upon Tyne",
        "A",
        "North East",
        "E08000021",
        "NE",
        (415000, 428000),
        (562000, 572000),
    ),
    (
        "891",
        "Nottinghamshire",
        "E",
        "East Midlands",
        "E10000024",
        "NG",
        (450000, 480000),
        (330000, 390000),
    ),
    (
        "926",
        "Norfolk",
        "G",
        "East of England",
        "E10000020",
        "NR",
        (570000, 650000),
        (290000, 340000),
    ),
    ("886", "Kent", "J", "South East", "E10000016", "ME", (560000, 640000), (130000, 175000)),
    ("908", "Cornwall", "K", "South West", "E06000052", "TR", (170000, 240000), (30000, 90000)),
    ("420", "Isles of Scilly", "K", "South West", "E06000053", "TR", (88000, 93000), (9000, 16000)),
)
# Establishments outside any LA (universities): LA code "000", a code with leading zeros.
_NO_LA = (
    "000",
    "Does not apply",
    "E",
    "East Midlands",
    "",
    "LE",
    (450000, 470000),
    (295000, 310000),
)

# (type code, type name, group code, group name, phase code, phase name, weight)
_TYPES: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("1", "Community school", "4", "Local authority maintained schools", "2", "Primary", 300),
    ("1", "Community school", "4", "Local authority maintained schools", "4", "Secondary", 40),
    ("2", "Voluntary aided school", "4", "Local authority maintained schools", "2", "Primary", 120),
    (
        "3",
        "Voluntary controlled school",
        "4",
        "Local authority maintained schools",
        "2",
        "Primary",
        80,
    ),
    ("5", "Foundation school", "4", "Local authority maintained schools", "4", "Secondary", 20),
    (
        "15",
        "Local authority nursery school",
        "4",
        "Local authority maintained schools",
        "1",
        "Nursery",
        10,
    ),
    ("34", "Academy converter", "10", "Academies", "2", "Primary", 180),
    ("34", "Academy converter", "10", "Academies", "4", "Secondary", 80),
    ("28", "Academy sponsor led", "10", "Academies", "4", "Secondary", 40),
    ("28", "Academy sponsor led", "10", "Academies", "7", "All-through", 5),
    ("35", "Free schools", "11", "Free Schools", "2", "Primary", 15),
    ("7", "Community special school", "5", "Special schools", "0", "Not applicable", 25),
    ("44", "Academy special converter", "5", "Special schools", "0", "Not applicable", 20),
    (
        "14",
        "Pupil referral unit",
        "4",
        "Local authority maintained schools",
        "0",
        "Not applicable",
        6,
    ),
    ("42", "Academy alternative provision converter", "10", "Academies", "0", "Not applicable", 4),
    ("11", "Other independent school", "3", "Independent schools", "7", "All-through", 40),
    ("18", "Further education", "1", "Colleges", "6", "16 plus", 6),
)
_TYPE_WEIGHTS = [t[6] for t in _TYPES]

# (status code, status name, weight): "a few closed ones".
_STATUSES = (
    ("1", "Open", 86),
    ("2", "Closed", 10),
    ("3", "Open, but proposed to close", 2),
    ("4", "Proposed to open", 2),
)
_STATUS_WEIGHTS = [s[2] for s in _STATUSES]

_SAINTS = (
    "St Mary’s",
    "St John’s",
    "St Aidan’s",
    "St Peter’s",
    "St Anne’s",
    "St Joseph’s",
    "St Chad’s",
    "Our Lady’s",
    "St Wilfrid’s",
    "St Thomas’",
)
_PLACES = (
    "Oakwood",
    "Beechfield",
    "Hollin",
    "Ashbrook",
    "Millgate",
    "Northbrook",
    "Elmhurst",
    "Kingsway",
    "Moorside",
    "Riverside",
    "Hazel Grove",
    "Fernlea",
    "Willowbank",
    "Brookfield",
    "Castleton",
    "Greenacres",
    "Hillcrest",
    "Lowfield",
    "Parkside",
    "Westfield",
)
_SUFFIX = {
    "Primary": ("Primary School", "Infant School", "Junior School", "Primary Academy"),
    "Secondary": ("High School", "Academy", "School", "Community College"),
    "All-through": ("School", "Academy", "Independent School"),
    "Nursery": ("Nursery School",),
    "16 plus": ("College", "Sixth Form College"),
}
_STREETS = (
    "Church Road",
    "Mill Road",
    "Station Road",
    "Park Road",
    "High Street",
    "School Lane",
    "Green Lane",
    "Manor Way",
    "Victoria Street",
    "Chapel Lane",
)
_TRUSTS = (
    "Northern Lights Learning Trust",
    "Harbour Schools Trust",
    "Pennine Academies",
    "Three Rivers Multi Academy Trust",
    "St Cuthbert’s Catholic Academy Trust",
    "Oak & Ash Education Partnership",
    "Meridian Learning Trust",
)
_FEDERATIONS = (
    "Moorside and Hollin Federation",
    "Riverside Schools’ Federation",
    "Castleton Federation",
)
_OFSTED = (
    "Outstanding",
    "Good",
    "Good",
    "Good",
    "Requires improvement",
    "Inadequate",
    "Serious Weaknesses",
    "Special Measures",
    "",
)
_HEAD_TITLES = ("Mrs", "Mr", "Ms", "Dr", "Miss")
_HEAD_FIRST = ("Alison", "Brendan", "Catherine", "Deepa", "Eamon", "Farah", "Gareth", "Helen")
_HEAD_LAST = ("Ashworth", "Bhatti", "Cowley", "Doherty", "Egan", "Fairclough", "Greenhalgh")


def _dmy(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def gias_rows(rows: int, *, seed: int = 0) -> list[list[str | int]]:
    """Build ``rows`` GIAS data rows (URN as int, every other field as text), deterministically."""
    rng = random.Random(seed)
    out: list[list[str | int]] = []
    urn = 100000
    for n in range(rows):
        urn += rng.randint(1, 3)
        la = _NO_LA if rng.random() < 0.004 else rng.choice(_LAS)
        la_code, la_name, gor_code, gor_name, gss, area, (e_lo, e_hi), (n_lo, n_hi) = la
        if la is _NO_LA:
            kind = (
                "29",
                "Higher education institutions",
                "2",
                "Universities",
                "0",
                "Not applicable",
                0,
            )
        else:
            kind = rng.choices(_TYPES, weights=_TYPE_WEIGHTS)[0]
        type_code, type_name, group_code, group_name, phase_code, phase_name, _ = kind
        status_code, status_name, _ = rng.choices(_STATUSES, weights=_STATUS_WEIGHTS)[0]

        place = rng.choice(_PLACES)
        if "special" in type_name.lower():
            name = f"{place} Special School"
        elif type_code in ("14", "42"):
            name = f"{place} Pupil Referral Unit" if type_code == "14" else f"{place} Academy"
        elif type_code == "29":
            name = f"University of {place}"
        else:
            first = rng.choice(_SAINTS) if rng.random() < 0.18 else place
            suffix = rng.choice(_SUFFIX[phase_name])
            if first in _SAINTS and rng.random() < 0.3:
                suffix = (
                    f"Church of England {suffix}" if rng.random() < 0.5 else f"Catholic {suffix}"
                )
            name = f"{first} {suffix}"
            if rng.random() < 0.01:
                name = f"{first}, {place} {suffix}"  # a comma inside a quoted field
        if rng.random() < 0.001:
            name = f'{name} (the "Hub")'  # a doubled quote inside a quoted field

        row: list[str | int] = [""] * len(GIAS_HEADER)
        low, high = {
            "Primary": (3, 11),
            "Secondary": (11, 16),
            "All-through": (4, 18),
            "Nursery": (2, 5),
            "16 plus": (16, 99),
            "Not applicable": (2, 19),
        }[phase_name]
        if phase_name == "Secondary" and rng.random() < 0.4:
            high = 18
        pupils = {
            "Primary": (60, 700),
            "Secondary": (400, 1800),
            "All-through": (200, 1500),
            "Nursery": (40, 150),
            "16 plus": (500, 4000),
            "Not applicable": (20, 400),
        }[phase_name]
        census_pupils = rng.randint(*pupils)
        boys = census_pupils // 2 + rng.randint(-20, 20)
        easting = rng.randint(e_lo, e_hi)
        northing = rng.randint(n_lo, n_hi)
        opened = ""
        if group_code in ("10", "11") or (type_code == "44"):
            opened = _dmy(date(rng.randint(2010, 2024), 9, 1))
        closed = ""
        if status_code == "2":
            closed = _dmy(_random_day(rng, date(2000, 1, 1), date(2025, 8, 31)))
        trust_code = trust_name = trust_flag_code = trust_flag = ""
        if group_code in ("10", "11") or type_code == "44":
            trust_index = rng.randrange(len(_TRUSTS))
            trust_code = str(16000 + trust_index * 137)
            trust_name = _TRUSTS[trust_index]
            trust_flag_code, trust_flag = "5", "Supported by a multi-academy trust"
        federation_code = federation_name = federation_flag = ""
        if group_code == "4" and rng.random() < 0.03:
            fed = rng.randrange(len(_FEDERATIONS))
            federation_code = f"FED{1000 + fed}"
            federation_name = _FEDERATIONS[fed]
            federation_flag = "Supported by a federation"
        elif group_code == "4":
            federation_flag = "Not under a federation"
        ofsted = rng.choice(_OFSTED) if status_code != "4" else ""
        inspected = (
            "" if not ofsted else _dmy(_random_day(rng, date(2014, 9, 1), date(2025, 7, 18)))
        )
        street = f"{rng.randint(1, 250)} {rng.choice(_STREETS)}"
        if rng.random() < 0.0005:
            street = f"Unit {rng.randint(1, 9)}\r\n{street}"  # a line break inside a field
        postcode = f"{area}{rng.randint(1, 40)} {rng.randint(1, 9)}" + "".join(
            rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2)
        )

        values: dict[str, str | int] = {
            "URN": urn,
            "LA (code)": la_code,
            "LA (name)": la_name,
            "EstablishmentNumber": "" if la is _NO_LA else str(rng.randint(1000, 7999)),
            "EstablishmentName": name,
            "TypeOfEstablishment (code)": type_code,
            "TypeOfEstablishment (name)": type_name,
            "EstablishmentTypeGroup (code)": group_code,
            "EstablishmentTypeGroup (name)": group_name,
            "EstablishmentStatus (code)": status_code,
            "EstablishmentStatus (name)": status_name,
            "ReasonEstablishmentOpened (code)": "00",
            "ReasonEstablishmentOpened (name)": "Not applicable",
            "OpenDate": opened,
            "ReasonEstablishmentClosed (code)": "99" if closed else "00",
            "ReasonEstablishmentClosed (name)": "Other" if closed else "Not applicable",
            "CloseDate": closed,
            "PhaseOfEducation (code)": phase_code,
            "PhaseOfEducation (name)": phase_name,
            "StatutoryLowAge": str(low),
            "StatutoryHighAge": str(high),
            "Boarders (code)": "1",
            "Boarders (name)": "No boarders",
            "NurseryProvision (name)": "Has Nursery Classes" if low < 4 else "No Nursery Classes",
            "OfficialSixthForm (code)": "1" if high >= 18 else "2",
            "OfficialSixthForm (name)": "Has a sixth form"
            if high >= 18
            else "Does not have a sixth form",
            "Gender (code)": "3",
            "Gender (name)": "Mixed",
            "ReligiousCharacter (name)": "Roman Catholic"
            if "Catholic" in name
            else ("Church of England" if "Church of England" in name else "Does not apply"),
            "AdmissionsPolicy (name)": "Not applicable",
            "SchoolCapacity": str(census_pupils + rng.randint(0, 120)),
            "CensusDate": "16-01-2025",
            "NumberOfPupils": "" if status_code in ("2", "4") else str(census_pupils),
            "NumberOfBoys": "" if status_code in ("2", "4") else str(boys),
            "NumberOfGirls": "" if status_code in ("2", "4") else str(census_pupils - boys),
            "PercentageFSM": f"{rng.uniform(2, 60):.1f}",
            "TrustSchoolFlag (code)": trust_flag_code,
            "TrustSchoolFlag (name)": trust_flag,
            "Trusts (code)": trust_code,
            "Trusts (name)": trust_name,
            "FederationFlag (name)": federation_flag,
            "Federations (code)": federation_code,
            "Federations (name)": federation_name,
            "UKPRN": str(10000000 + urn),
            "OfstedLastInsp": inspected,
            "LastChangedDate": _dmy(_random_day(rng, date(2023, 1, 1), date(2025, 11, 1))),
            "Street": street,
            "Town": la_name if la is not _NO_LA else place,
            "County (name)": "Not recorded",
            "Postcode": postcode,
            "SchoolWebsite": f"www.{place.lower().replace(' ', '')}{n}.example.sch.uk",
            "TelephoneNum": f"0161{rng.randint(1000000, 9999999)}",
            "HeadTitle (name)": rng.choice(_HEAD_TITLES),
            "HeadFirstName": rng.choice(_HEAD_FIRST),
            "HeadLastName": rng.choice(_HEAD_LAST),
            "HeadPreferredJobTitle": "Headteacher",
            "GOR (code)": gor_code,
            "GOR (name)": gor_name,
            "UrbanRural (name)": "(England/Wales) Urban major conurbation",
            "GSSLACode (name)": gss,
            "Easting": str(easting),
            "Northing": str(northing),
            "OfstedRating (name)": ofsted,
            "RSCRegion (name)": gor_name,
            "Country (name)": "United Kingdom",
        }
        for column, value in values.items():
            row[_COL[column]] = value
        out.append(row)
    return out


def write_gias_csv(path: Path, *, rows: int, seed: int = 0, encoding: str = "cp1252") -> None:
    """Write a GIAS-shaped CSV of ``rows`` schools (cp1252 by default; "utf-8-sig" adds a BOM)."""
    with path.open("w", encoding=encoding, newline="") as out:
        csv.writer(out, quoting=csv.QUOTE_ALL).writerow(GIAS_HEADER)
        csv.writer(out, quoting=csv.QUOTE_NONNUMERIC).writerows(gias_rows(rows, seed=seed))
