"""Sample CVs used across the CV tests (an Arabic CV with Latin runs, and an English one)."""

from __future__ import annotations

from typing import Any


def arabic_cv(**layout: Any) -> dict[str, Any]:
    return {
        "locale": "ar",
        "basics": {
            "name": "ليلى أحمد الخطيب",
            "label": "مهندسة برمجيات",
            "email": "layla@example.com",
            "phone": "+962 7 9123 4567",
            "url": "https://layla.example.com",
            "summary": "مهندسة برمجيات بخبرة ثماني سنوات في بناء أنظمة موزعة على Kubernetes، "
            "مع تركيز على المدفوعات والأمن.",
            "location": {"city": "عمّان", "countryCode": "JO"},
            "profiles": [{"network": "GitHub", "username": "layla-k", "url": "https://github.com/layla-k"}],
        },
        "work": [
            {
                "name": "Acme Corp",
                "position": "مهندسة برمجيات أولى",
                "location": "عمّان",
                "startDate": "2021-01",
                "highlights": [
                    "قادت فريقاً من خمسة مهندسين لبناء منصة دفع تعالج 2.5 مليون معاملة شهرياً "
                    "باستخدام Python و FastAPI.",
                    "خفّضت زمن الاستجابة بنسبة 40% عبر التخزين المؤقت في Redis.",
                ],
            },
            {
                "name": "شركة أمنية للاتصالات",
                "position": "مهندسة برمجيات",
                "startDate": "2016-09",
                "endDate": "2020-12",
                "highlights": ["صمّمت خط نشر مستمر على AWS يقلل وقت الإصدار من يومين إلى ساعة."],
            },
        ],
        "education": [
            {
                "institution": "الجامعة الأردنية",
                "area": "علم الحاسوب",
                "studyType": "بكالوريوس",
                "startDate": "2012-09",
                "endDate": "2016-06",
            }
        ],
        "skills": [
            {"name": "Python", "level": 5, "keywords": ["FastAPI", "asyncio"]},
            {"name": "PostgreSQL", "level": 4},
        ],
        "languages": [
            {"language": "العربية", "fluency": "native"},
            {"language": "الإنجليزية", "fluency": "C1"},
        ],
        "certificates": [{"name": "AWS Solutions Architect", "issuer": "Amazon", "date": "2022-05"}],
        "layout": {"template": "ats", **layout},
    }


def english_cv(**layout: Any) -> dict[str, Any]:
    return {
        "locale": "en",
        "basics": {
            "name": "Omar Haddad",
            "label": "Data Analyst",
            "email": "omar.haddad@example.com",
            "phone": "+962 79 555 0142",
            "summary": "Data analyst with five years of experience turning payment data into decisions.",
            "location": {"city": "Irbid", "countryCode": "JO"},
        },
        "work": [
            {
                "name": "مصرف الإسكان",
                "position": "Senior Data Analyst",
                "location": "Amman",
                "startDate": "2022-03",
                "highlights": [
                    "Built the fraud dashboard used by 40 branch managers.",
                    "Cut the monthly report from three days to four hours.",
                ],
            },
            {
                "name": "Zain Jordan",
                "position": "Data Analyst",
                "startDate": "2019-07",
                "endDate": "2022-02",
                "highlights": ["Modelled churn for 1.2 million subscribers."],
            },
        ],
        "education": [
            {
                "institution": "Yarmouk University",
                "area": "Statistics",
                "studyType": "BSc",
                "startDate": "2015-09",
                "endDate": "2019-06",
            }
        ],
        "skills": [{"name": "SQL", "level": 5}, {"name": "Power BI", "level": 4}],
        "languages": [{"language": "Arabic", "fluency": "native"}, {"language": "English", "fluency": "C2"}],
        "layout": {"template": "ats", **layout},
    }
