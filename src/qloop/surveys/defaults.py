"""The default 《顾客满意度调查表》 (Customer Satisfaction Survey), built from the seed's list
of what feedback covers: product quality (制造质量, 设计, 外购件, 性能), delivery, after-sales
service (时间, 态度, 技术水平, 沟通能力), price, a 0–10 recommendation, market needs and a comment.
"""

from __future__ import annotations

from typing import Any

# (code, 简体, 繁體, English, type, required, choices (简, 繁, en))
Item = tuple[str, str, str, str, str, bool, tuple[list[str], list[str], list[str]] | None]

CSAT_TEMPLATE: dict[str, Any] = {
    "code": "csat",
    "title": ("顾客满意度调查表", "顧客滿意度調查表", "Customer Satisfaction Survey"),
    "intro": (
        "感谢您使用我公司的产品与服务。请根据您的真实感受填写本表（1 分 = 很不满意，5 分 = 很满意），"
        "我们将认真分析并改进。",
        "感謝您使用我公司的產品與服務。請根據您的真實感受填寫本表（1 分 = 很不滿意，5 分 = 很滿意），"
        "我們將認真分析並改進。",
        "Thank you for using our products and services. Please rate them as you really see them "
        "(1 = very dissatisfied, 5 = very satisfied); we will analyse your answers and improve.",
    ),
    "sections": [
        (
            ("产品质量", "產品質量", "Product quality"),
            [
                (
                    "quality_manufacturing",
                    "产品制造质量",
                    "產品製造質量",
                    "Manufacturing quality",
                    "rating",
                    True,
                    None,
                ),
                (
                    "quality_design",
                    "产品设计与适用性",
                    "產品設計與適用性",
                    "Design and fitness for use",
                    "rating",
                    True,
                    None,
                ),
                (
                    "quality_parts",
                    "外购件的配套性与质量",
                    "外購件的配套性與質量",
                    "Compatibility and quality of purchased parts",
                    "rating",
                    True,
                    None,
                ),
                (
                    "quality_performance",
                    "产品性能",
                    "產品性能",
                    "Product performance",
                    "rating",
                    True,
                    None,
                ),
            ],
        ),
        (
            ("产品交付", "產品交付", "Delivery"),
            [
                (
                    "delivery_time",
                    "交货及时性",
                    "交貨及時性",
                    "On-time delivery",
                    "rating",
                    True,
                    None,
                ),
                (
                    "delivery_condition",
                    "包装与到货状况",
                    "包裝與到貨狀況",
                    "Packaging and condition on arrival",
                    "rating",
                    True,
                    None,
                ),
            ],
        ),
        (
            ("售后服务", "售後服務", "After-sales service"),
            [
                (
                    "service_time",
                    "售后服务响应时间",
                    "售後服務響應時間",
                    "After-sales response time",
                    "rating",
                    True,
                    None,
                ),
                (
                    "service_attitude",
                    "售后服务态度",
                    "售後服務態度",
                    "After-sales service attitude",
                    "rating",
                    True,
                    None,
                ),
                (
                    "service_skill",
                    "售后服务技术水平",
                    "售後服務技術水平",
                    "Technical skill of after-sales staff",
                    "rating",
                    True,
                    None,
                ),
                (
                    "service_communication",
                    "售后人员的沟通能力",
                    "售後人員的溝通能力",
                    "Communication of after-sales staff",
                    "rating",
                    True,
                    None,
                ),
            ],
        ),
        (
            ("价格", "價格", "Price"),
            [
                ("price", "价格合理性", "價格合理性", "Value for money", "rating", True, None),
            ],
        ),
        (
            ("总体评价", "總體評價", "Overall"),
            [
                (
                    "recommend",
                    "您向同行或朋友推荐我公司产品的可能性有多大？（0 = 完全不可能，10 = 非常可能）",
                    "您向同行或朋友推薦我公司產品的可能性有多大？（0 = 完全不可能，10 = 非常可能）",
                    "How likely are you to recommend our products to a colleague or friend? (0 = not at all, 10 = extremely likely)",
                    "recommendation",
                    True,
                    None,
                ),
                (
                    "buy_again",
                    "您是否会继续选购我公司的产品？",
                    "您是否會繼續選購我公司的產品？",
                    "Will you buy our products again?",
                    "single",
                    False,
                    (["会", "可能会", "不会"], ["會", "可能會", "不會"], ["Yes", "Maybe", "No"]),
                ),
                (
                    "needs",
                    "您近期还需要哪些产品或服务？（可多选）",
                    "您近期還需要哪些產品或服務？（可多選）",
                    "What else will you need soon? (choose any)",
                    "multiple",
                    False,
                    (
                        ["同型号产品", "相关配套产品", "新产品", "维修保养服务", "技术培训"],
                        ["同型號產品", "相關配套產品", "新產品", "維修保養服務", "技術培訓"],
                        [
                            "The same products",
                            "Related products",
                            "New products",
                            "Maintenance service",
                            "Technical training",
                        ],
                    ),
                ),
                (
                    "comments",
                    "您的意见与建议",
                    "您的意見與建議",
                    "Your comments and suggestions",
                    "text",
                    False,
                    None,
                ),
            ],
        ),
    ],
}

TEMPLATES = {"csat": CSAT_TEMPLATE}
