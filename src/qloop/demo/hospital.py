"""The demo hospital that the pharmacy and clinical profiles share (documents 3, 4 and 5).

One installation serves one organisation; the demo shows all three profiles at once, so the
hospital is a department tree of its own beside the manufacturer's: its pharmacy, laboratory,
radiology, medical affairs and infection control, clinical departments, the Pharmacy and
Therapeutics Committee, and the outside recipients its reports go to. The pharmacy and
clinical demo parts each call ``load_hospital`` first; it is idempotent.
"""

from __future__ import annotations

from typing import Any

from qloop.demo.loader import check_password_allowed, put_departments, put_people, put_roles

HOSPITAL = "HOSP"

# code, 简体, 繁體, English, parent code. Intake kinds are set by the profiles that own them.
HOSPITAL_DEPARTMENTS: list[tuple[str, str, str, str, str | None]] = [
    (HOSPITAL, "苏州市第二人民医院", "蘇州市第二人民醫院", "Suzhou Second People's Hospital", None),
    ("PHARM", "药剂科", "藥劑科", "Pharmacy", HOSPITAL),
    ("LAB", "检验科", "檢驗科", "Laboratory", HOSPITAL),
    ("RAD", "放射科", "放射科", "Radiology", HOSPITAL),
    ("MED", "医务科", "醫務科", "Medical affairs office", HOSPITAL),
    ("IC", "院感科", "院感科", "Infection control", HOSPITAL),
    ("IM", "内科", "內科", "Internal medicine", HOSPITAL),
    ("SURG", "外科", "外科", "Surgery", HOSPITAL),
    ("PED", "儿科", "兒科", "Paediatrics", HOSPITAL),
    ("OBGYN", "妇产科", "婦產科", "Obstetrics and gynaecology", HOSPITAL),
    ("ER", "急诊科", "急診科", "Emergency department", HOSPITAL),
    (
        "PTC",
        "药事管理与药物治疗学委员会",
        "藥事管理與藥物治療學委員會",
        "Pharmacy and Therapeutics Committee",
        HOSPITAL,
    ),
    # Outside recipients (X1): where reports go.
    ("NMPA", "市药品监督管理局", "市藥品監督管理局", "Municipal drug regulatory authority", None),
    ("CDC", "区疾病预防控制中心", "區疾病預防控制中心", "District CDC", None),
]

CLINICAL_DEPARTMENTS = ("IM", "SURG", "PED", "OBGYN", "ER")

# code, 简体, 繁體, English, sees all cases, manages cases, sees personal data, administers.
HOSPITAL_ROLES: list[tuple[str, str, str, str, bool, bool, bool, bool]] = [
    ("pharmacist", "药师", "藥師", "Pharmacist", False, False, True, False),
    ("pharmacy_head", "药剂科主任", "藥劑科主任", "Head of pharmacy", False, True, True, False),
    (
        "adr_officer",
        "药品不良反应监测员",
        "藥品不良反應監測員",
        "ADR monitoring officer",
        False,
        True,
        True,
        False,
    ),
    ("physician", "医师", "醫師", "Physician", False, False, False, False),
    ("clinical_head", "科主任", "科主任", "Head of department", False, True, False, False),
    (
        "lab_technologist",
        "检验技师",
        "檢驗技師",
        "Laboratory technologist",
        False,
        False,
        True,
        False,
    ),
    ("lab_head", "检验科主任", "檢驗科主任", "Head of laboratory", False, True, True, False),
    (
        "radiology_technologist",
        "放射技师",
        "放射技師",
        "Radiology technologist",
        False,
        False,
        True,
        False,
    ),
    ("radiology_head", "放射科主任", "放射科主任", "Head of radiology", False, True, True, False),
    (
        "medical_affairs",
        "医务科干事",
        "醫務科幹事",
        "Medical affairs officer",
        False,
        True,
        True,
        False,
    ),
    (
        "infection_control",
        "院感专职人员",
        "院感專職人員",
        "Infection control officer",
        False,
        False,
        True,
        False,
    ),
]

# The demo users of documents 3–5: user name, name, department, role. The names are contracts
# (issues #10, #11): pharm, pharm_head, adr_officer, doctor, lab, lab_head, rad, med_affairs, ic.
HOSPITAL_USERS: list[tuple[str, str, str, str]] = [
    ("pharm", "孙丽娟", "PHARM", "pharmacist"),
    ("pharm_head", "钱文博", "PHARM", "pharmacy_head"),
    ("adr_officer", "吴晓梅", "PHARM", "adr_officer"),
    ("doctor", "郑国华", "IM", "physician"),
    ("lab", "冯静", "LAB", "lab_technologist"),
    ("lab_head", "陈永康", "LAB", "lab_head"),
    ("rad", "褚伟", "RAD", "radiology_technologist"),
    ("med_affairs", "卫红", "MED", "medical_affairs"),
    ("ic", "蒋敏", "IC", "infection_control"),
]


def load_hospital() -> dict[str, Any]:
    """The hospital's departments, roles and people; safe to run again. Returns the users."""
    check_password_allowed()
    depts = put_departments(
        [(code, name, hant, en, None) for code, name, hant, en, _parent in HOSPITAL_DEPARTMENTS],
        {code: parent for code, *_names, parent in HOSPITAL_DEPARTMENTS},
    )
    roles = put_roles(HOSPITAL_ROLES)
    return put_people(HOSPITAL_USERS, depts, roles, email_domain="hospital.example.com")
