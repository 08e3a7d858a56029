"""The pharmacy profile's reference data: the pharmacy as intake for its kinds, its settings
and a catalogue of real-looking drugs with batches (the demo's; a real installation imports
its own catalogue from .xlsx).

Running it again changes nothing already there.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from qloop.org.models import Department
from qloop.pharmacy.models import Drug, DrugBatch, PharmacySettings

PHARMACY_KINDS = ["drug_feedback", "counterfeit", "adr", "adr_group"]

# generic name, dosage forms with strengths, brand names
GENERICS: list[tuple[str, list[tuple[str, str]], list[str]]] = [
    ("阿莫西林", [("胶囊", "0.25g"), ("颗粒", "0.125g")], ["阿莫仙", "再林"]),
    ("头孢克肟", [("颗粒", "50mg"), ("片", "0.1g")], ["世福素", "达力芬"]),
    ("头孢呋辛酯", [("片", "0.25g")], ["西力欣", "伏乐新"]),
    ("注射用头孢曲松钠", [("", "1.0g"), ("", "2.0g")], ["罗氏芬", "菌必治"]),
    ("左氧氟沙星", [("片", "0.5g"), ("注射液", "100ml:0.5g")], ["可乐必妥", "来立信"]),
    ("阿奇霉素", [("片", "0.25g"), ("干混悬剂", "0.1g")], ["希舒美", "泰力特"]),
    ("克拉霉素", [("片", "0.25g")], ["克拉仙", "诺邦"]),
    ("甲硝唑", [("片", "0.2g"), ("氯化钠注射液", "100ml:0.5g")], ["", "佳尔纳"]),
    ("布洛芬", [("缓释胶囊", "0.3g"), ("混悬液", "100ml:2g")], ["芬必得", "美林"]),
    ("对乙酰氨基酚", [("片", "0.5g"), ("混悬滴剂", "15ml:1.5g")], ["泰诺林", "必理通"]),
    ("氨氯地平", [("片", "5mg")], ["络活喜", "施慧达"]),
    ("硝苯地平", [("控释片", "30mg")], ["拜新同", "欣然"]),
    ("缬沙坦", [("胶囊", "80mg")], ["代文", "穗悦"]),
    ("厄贝沙坦", [("片", "0.15g")], ["安博维", "吉加"]),
    ("美托洛尔", [("缓释片", "47.5mg"), ("片", "25mg")], ["倍他乐克", ""]),
    ("阿托伐他汀钙", [("片", "20mg")], ["立普妥", "阿乐"]),
    ("瑞舒伐他汀钙", [("片", "10mg")], ["可定", "托妥"]),
    ("二甲双胍", [("片", "0.5g"), ("缓释片", "0.5g")], ["格华止", "泰白"]),
    ("格列美脲", [("片", "2mg")], ["亚莫利", "万苏平"]),
    ("阿卡波糖", [("片", "50mg")], ["拜唐苹", "卡博平"]),
    ("胰岛素注射液", [("", "10ml:400单位")], ["诺和灵R", "优泌林"]),
    ("奥美拉唑", [("肠溶胶囊", "20mg"), ("注射用", "40mg")], ["洛赛克", "奥克"]),
    ("雷贝拉唑钠", [("肠溶片", "10mg")], ["波利特", "济诺"]),
    ("多潘立酮", [("片", "10mg")], ["吗丁啉", ""]),
    ("蒙脱石", [("散", "3g")], ["思密达", "必奇"]),
    ("氯雷他定", [("片", "10mg")], ["开瑞坦", "息斯敏"]),
    ("西替利嗪", [("片", "10mg")], ["仙特明", "比特力"]),
    ("孟鲁司特钠", [("咀嚼片", "4mg"), ("片", "10mg")], ["顺尔宁", "顺坦"]),
    ("沙丁胺醇", [("气雾剂", "100μg/揿")], ["万托林", ""]),
    ("布地奈德", [("混悬液", "2ml:1mg")], ["普米克令舒", ""]),
    ("氨溴索", [("口服溶液", "100ml:0.6g"), ("注射液", "2ml:15mg")], ["沐舒坦", "兰苏"]),
    ("氯化钾", [("缓释片", "0.5g")], ["补达秀", ""]),
    ("葡萄糖注射液", [("", "250ml:12.5g"), ("", "500ml:25g")], ["", ""]),
    ("氯化钠注射液", [("", "100ml:0.9g"), ("", "250ml:2.25g")], ["", ""]),
    ("地塞米松磷酸钠注射液", [("", "1ml:5mg")], ["", ""]),
    ("甲泼尼龙", [("片", "4mg"), ("注射用", "40mg")], ["美卓乐", "甲强龙"]),
    ("阿司匹林", [("肠溶片", "100mg")], ["拜阿司匹灵", ""]),
    ("氯吡格雷", [("片", "75mg")], ["波立维", "泰嘉"]),
    ("华法林钠", [("片", "2.5mg")], ["", ""]),
    ("低分子肝素钙注射液", [("", "0.4ml:4100IU")], ["速碧林", ""]),
    ("利伐沙班", [("片", "10mg")], ["拜瑞妥", ""]),
    ("舍曲林", [("片", "50mg")], ["左洛复", "快五优"]),
    ("艾司唑仑", [("片", "1mg")], ["", ""]),
    ("维生素C", [("片", "0.1g"), ("注射液", "2ml:0.5g")], ["", ""]),
    ("复方甘草", [("片", "复方")], ["", ""]),
    ("双黄连", [("口服液", "10ml")], ["", ""]),
    ("血塞通", [("注射用", "0.2g")], ["", ""]),
    ("丹参", [("注射液", "10ml")], ["", ""]),
    ("莫西沙星", [("片", "0.4g"), ("氯化钠注射液", "250ml:0.4g")], ["拜复乐", "莫清"]),
    ("万古霉素", [("注射用", "0.5g")], ["稳可信", "来可信"]),
    ("哌拉西林钠他唑巴坦钠", [("注射用", "4.5g")], ["特治星", "联邦他唑仙"]),
    ("美罗培南", [("注射用", "0.5g")], ["美平", "倍能"]),
    ("奥司他韦", [("胶囊", "75mg"), ("颗粒", "15mg")], ["达菲", "可威"]),
    ("阿昔洛韦", [("片", "0.2g")], ["", ""]),
    ("氟康唑", [("胶囊", "50mg")], ["大扶康", ""]),
    ("碘克沙醇注射液", [("", "100ml:65.2g")], ["威视派克", ""]),
    ("碘海醇注射液", [("", "100ml:35g")], ["欧乃派克", ""]),
    ("紫杉醇注射液", [("", "5ml:30mg")], ["泰素", "紫素"]),
    ("顺铂注射液", [("", "6ml:30mg")], ["", ""]),
    ("吗啡", [("缓释片", "30mg")], ["美施康定", ""]),
    ("曲马多", [("缓释片", "0.1g")], ["奇曼丁", ""]),
    ("碳酸钙D3", [("片", "600mg")], ["钙尔奇", ""]),
    ("叶酸", [("片", "0.4mg")], ["斯利安", ""]),
    ("硫酸亚铁", [("缓释片", "0.45g")], ["福乃得", ""]),
    ("甲钴胺", [("片", "0.5mg")], ["弥可保", ""]),
    ("左甲状腺素钠", [("片", "50μg")], ["优甲乐", "雷替斯"]),
    ("坦索罗辛", [("缓释胶囊", "0.2mg")], ["哈乐", "积大本特"]),
    ("非那雄胺", [("片", "5mg")], ["保列治", ""]),
    ("玻璃酸钠滴眼液", [("", "5ml:5mg")], ["爱丽", "海露"]),
    ("妥布霉素地塞米松滴眼液", [("", "5ml")], ["典必殊", ""]),
    ("莫匹罗星软膏", [("", "5g:0.1g")], ["百多邦", ""]),
    ("炉甘石洗剂", [("", "100ml")], ["", ""]),
    ("硝酸甘油", [("片", "0.5mg")], ["", ""]),
    ("呋塞米", [("片", "20mg"), ("注射液", "2ml:20mg")], ["速尿", ""]),
    ("螺内酯", [("片", "20mg")], ["安体舒通", ""]),
    ("地高辛", [("片", "0.25mg")], ["", ""]),
    ("胺碘酮", [("片", "0.2g")], ["可达龙", ""]),
    ("利多卡因注射液", [("", "5ml:0.1g")], ["", ""]),
    ("丙泊酚乳状注射液", [("", "20ml:0.2g")], ["得普利麻", ""]),
    ("昂丹司琼", [("片", "8mg")], ["枢复宁", ""]),
]

MANUFACTURERS = [
    ("国药集团致君（深圳）制药有限公司", "H"),
    ("华北制药股份有限公司", "H"),
    ("石药集团欧意药业有限公司", "H"),
    ("扬子江药业集团有限公司", "H"),
    ("齐鲁制药有限公司", "H"),
    ("上海上药信谊药厂有限公司", "H"),
    ("浙江华海药业股份有限公司", "H"),
    ("江苏恒瑞医药股份有限公司", "H"),
    ("广州白云山制药股份有限公司", "H"),
    ("哈药集团制药总厂", "H"),
    ("华润双鹤药业股份有限公司", "H"),
    ("四川科伦药业股份有限公司", "H"),
    ("珠海联邦制药股份有限公司", "H"),
    ("山东新华制药股份有限公司", "H"),
    ("北京双鹭药业股份有限公司", "H"),
]

STORES = ["药库", "门诊药房", "住院药房", "急诊药房"]


def drug_rows(count: int = 200, seed: int = 10) -> list[dict[str, Any]]:
    """About ``count`` believable catalogue lines: generic names with their forms and
    strengths, each from one or two makers with a 国药准字 number."""
    rng = random.Random(seed)  # noqa: S311 - demo data
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    while len(rows) < count:
        for generic, forms, brands in GENERICS:
            for form, strength in forms:
                maker, letter = rng.choice(MANUFACTURERS)
                approval = f"国药准字{letter}{rng.choice(('1', '2', '3', '4'))}{rng.randint(1000000, 9999999)}"
                if (maker, approval) in seen:
                    continue
                seen.add((maker, approval))
                rows.append(
                    {
                        "generic_name": generic,
                        "dosage_form": form,
                        "brand_name": rng.choice(brands),
                        "approval_number": approval,
                        "strength": strength,
                        "manufacturer": maker,
                    }
                )
                if len(rows) >= count:
                    return rows
    return rows


def load_catalogue(count: int = 200, batches: int = 2, today: dt.date | None = None) -> int:
    """The demo catalogue: ``count`` drugs, each with a few batches; returns the drugs made."""
    if Drug.objects.exists():
        return 0
    today = today or timezone.localdate()
    rng = random.Random(11)  # noqa: S311 - demo data
    drugs = Drug.objects.bulk_create(Drug(**row) for row in drug_rows(count))
    DrugBatch.objects.bulk_create(
        DrugBatch(
            drug=drug,
            batch_number=f"{today.year - 1 + i % 2 - 2000:02d}{rng.randint(1, 12):02d}{rng.randint(100, 999)}",
            expiry=today + dt.timedelta(days=rng.randint(-30, 900)),
        )
        for drug in drugs
        for i in range(batches)
    )
    return len(drugs)


def load_pharmacy_setup(*, catalogue: bool = True) -> dict[str, Any]:
    """The pharmacy department receives the profile's kinds; the settings row exists."""
    pharm = Department.objects.filter(code="PHARM").first()
    if pharm is not None:
        kinds = list(dict.fromkeys([*pharm.intake_kinds, *PHARMACY_KINDS]))
        if kinds != pharm.intake_kinds:
            pharm.intake_kinds = kinds
            pharm.save(update_fields=["intake_kinds"])
    settings = PharmacySettings.current()
    made = load_catalogue() if catalogue else 0
    return {"settings": settings, "drugs": made}
