"""The clinical profile's reference data: registers, wards, rules, diseases and reporting rules.

Loaded by the demo and by ``qloop manage clinical_setup`` on a real installation (every row is
data an administrator may change afterwards); running it again changes nothing already there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from qloop.clinical.models import (
    ClinicalRegister,
    DiseaseClass,
    FindingKind,
    FindingRule,
    Modality,
    NotifiableDisease,
    ReportingRule,
    Ward,
)
from qloop.org.models import Department
from qloop.rows import put_rows

CLINICAL_KINDS = ["finding", "patient_opinion", "special_request", "clinician_issue"]

REGISTERS = [
    # code, 简体, 繁體, English, department, modality, prefix, HL7 MSH-3
    (
        "lab",
        "检验科登记簿",
        "檢驗科登記簿",
        "Laboratory register",
        "LAB",
        "laboratory",
        "LR",
        "LIS",
    ),
    ("rad", "放射科登记簿", "放射科登記簿", "Radiology register", "RAD", "imaging", "RR", "RIS"),
]

# code, 简体, 繁體, English, department, beds, nurses' station phone
WARDS = [
    ("IM1", "内科一病区", "內科一病區", "Internal medicine ward 1", "IM", 42, "8201"),
    ("IM2", "内科二病区", "內科二病區", "Internal medicine ward 2", "IM", 40, "8202"),
    ("SURG1", "外科一病区", "外科一病區", "Surgical ward 1", "SURG", 45, "8301"),
    ("PED1", "儿科病区", "兒科病區", "Paediatric ward", "PED", 30, "8401"),
    ("OB1", "产科病区", "產科病區", "Obstetric ward", "OBGYN", 36, "8501"),
    ("ERO", "急诊留观室", "急診留觀室", "Emergency observation", "ER", 20, "8120"),
]

# Reporting deadlines with their source (《中华人民共和国传染病防治法》第三十条、
# 《传染病信息报告管理规范（2015年版）》): class A and those managed as class A within 2 hours,
# the other classes within 24 hours.
LAW = "《中华人民共和国传染病防治法》第三十条；《传染病信息报告管理规范（2015年版）》"
REPORTING_RULES = [
    (DiseaseClass.A, 2),
    (DiseaseClass.B_AS_A, 2),
    (DiseaseClass.B, 24),
    (DiseaseClass.C, 24),
    (DiseaseClass.OTHER, 24),
]

# code, 简体, 繁體, English, class, ICD-10
DISEASES = [
    ("cholera", "霍乱", "霍亂", "Cholera", DiseaseClass.A, "A00"),
    ("anthrax_pulmonary", "肺炭疽", "肺炭疽", "Pulmonary anthrax", DiseaseClass.B_AS_A, "A22.1"),
    (
        "bacillary_dysentery",
        "细菌性痢疾",
        "細菌性痢疾",
        "Bacillary dysentery",
        DiseaseClass.B,
        "A03",
    ),
    ("salmonellosis", "沙门菌感染", "沙門菌感染", "Salmonellosis", DiseaseClass.OTHER, "A02"),
    ("syphilis", "梅毒", "梅毒", "Syphilis", DiseaseClass.B, "A53"),
    ("hiv", "艾滋病病毒感染", "愛滋病病毒感染", "HIV infection", DiseaseClass.B, "B24"),
    ("hepatitis_b", "乙型病毒性肝炎", "乙型病毒性肝炎", "Hepatitis B", DiseaseClass.B, "B16"),
    ("tuberculosis", "肺结核", "肺結核", "Pulmonary tuberculosis", DiseaseClass.B, "A15"),
    ("influenza", "流行性感冒", "流行性感冒", "Influenza", DiseaseClass.C, "J11"),
]

POSITIVE = "阳性, 检出, 陽性, 檢出, positive, isolated, reactive, detected"
NEGATIVE = "阴性, 未检出, 陰性, 未檢出, negative, not isolated, non-reactive, not detected"

# register, name, test code, low, high, sex, age from, age below, minutes
CRITICAL_RULES: list[tuple[str, str, str, str | None, str | None, str, str | None, str | None]] = [
    ("lab", "血钾危急值", "K", "2.8", "6.2", "", None, None),
    ("lab", "血钠危急值", "NA", "120", "160", "", None, None),
    ("lab", "血糖危急值（成人）", "GLU", "2.8", "22.2", "", "18", None),
    ("lab", "血糖危急值（儿童）", "GLU", "2.2", "16.6", "", None, "18"),
    ("lab", "血红蛋白危急值（男）", "HGB", "60", "200", "M", None, None),
    ("lab", "血红蛋白危急值（女）", "HGB", "50", "180", "F", None, None),
    ("lab", "血小板危急值", "PLT", "30", "1000", "", None, None),
    ("lab", "白细胞危急值", "WBC", "1.5", "30", "", None, None),
    ("lab", "新生儿胆红素危急值", "TBIL", None, "340", "", None, "0.08"),
    ("lab", "血铅危急值（儿童）", "10368-9", None, "45", "", None, "18"),
]

# register, name, test code, disease code
INFECTIOUS_RULES = [
    ("lab", "粪便培养检出志贺菌", "17576-0", "bacillary_dysentery"),
    ("lab", "粪便培养检出沙门菌", "20995-1", "salmonellosis"),
    ("lab", "粪便培养检出弯曲菌", "6331-3", None),
    ("lab", "霍乱弧菌培养", "VIBRIO", "cholera"),
    ("lab", "梅毒螺旋体抗体", "TPPA", "syphilis"),
    ("lab", "HIV抗体确证", "HIV-WB", "hiv"),
    ("lab", "乙肝表面抗原", "HBSAG", "hepatitis_b"),
    ("lab", "结核分枝杆菌培养", "MTB", "tuberculosis"),
    ("lab", "甲型流感病毒抗原", "FLUA", "influenza"),
    ("rad", "胸片提示活动性肺结核", "CXR-TB", "tuberculosis"),
]


def load_clinical_setup() -> dict[str, Any]:
    """Registers, wards, diseases, reporting rules and finding rules; idempotent (a row that
    exists is kept as it is: the hospital may have changed it)."""
    depts = {d.code: d for d in Department.objects.all()}
    registers = put_rows(
        ClinicalRegister,
        "code",
        [
            {
                "code": code,
                "name": name,
                "name_zh_hant": hant,
                "name_en": en,
                "department_id": depts[dept].pk,
                "modality": Modality(modality),
                "prefix": prefix,
                "hl7_application": app,
            }
            for code, name, hant, en, dept, modality, prefix, app in REGISTERS
        ],
        update=False,
    )
    lab = depts["LAB"]
    if not set(CLINICAL_KINDS) <= set(lab.intake_kinds):
        lab.intake_kinds = sorted({*lab.intake_kinds, *CLINICAL_KINDS})
        lab.save(update_fields=["intake_kinds"])
    ic = depts["IC"]
    if "disease_report" not in ic.intake_kinds:
        ic.intake_kinds = sorted({*ic.intake_kinds, "disease_report"})
        ic.save(update_fields=["intake_kinds"])
    wards = put_rows(
        Ward,
        "code",
        [
            {
                "code": code,
                "name": name,
                "name_zh_hant": hant,
                "name_en": en,
                "department_id": depts[dept].pk,
                "beds": beds,
                "phone": phone,
            }
            for code, name, hant, en, dept, beds, phone in WARDS
        ],
        update=False,
    )
    put_rows(
        ReportingRule,
        ("disease_class", "version"),
        [
            {
                "disease_class": disease_class,
                "version": 1,
                "hours": hours,
                "source": LAW,
                "valid_from": dt.date(2015, 1, 1),
            }
            for disease_class, hours in REPORTING_RULES
        ],
        update=False,
    )
    diseases = put_rows(
        NotifiableDisease,
        "code",
        [
            {
                "code": code,
                "name": name,
                "name_zh_hant": hant,
                "name_en": en,
                "disease_class": disease_class,
                "icd10": icd,
            }
            for code, name, hant, en, disease_class, icd in DISEASES
        ],
        update=False,
    )
    put_rows(
        FindingRule,
        ("register_id", "name"),
        [
            *(
                {
                    "register_id": registers[reg].pk,
                    "name": name,
                    "kind": FindingKind.CRITICAL,
                    "test_code": test,
                    "low_limit": Decimal(low) if low else None,
                    "high_limit": Decimal(high) if high else None,
                    "sex": sex,
                    "age_min_years": Decimal(age_from) if age_from else None,
                    "age_max_years": Decimal(age_below) if age_below else None,
                }
                for reg, name, test, low, high, sex, age_from, age_below in CRITICAL_RULES
            ),
            *(
                {
                    "register_id": registers[reg].pk,
                    "name": name,
                    "kind": FindingKind.INFECTIOUS,
                    "test_code": test,
                    "positive_words": POSITIVE,
                    "negative_words": NEGATIVE,
                    "disease_id": diseases[disease].pk if disease else None,
                }
                for reg, name, test, disease in INFECTIOUS_RULES
            ),
        ],
        update=False,
    )
    return {"registers": registers, "wards": wards, "diseases": diseases}
