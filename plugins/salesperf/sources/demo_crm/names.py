"""Name and text pools for the demo CRM (Chinese with pinyin for e-mail addresses, English)."""

ZH_SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"),
    ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"),
]  # fmt: skip

ZH_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"),
    ("晨", "chen"), ("浩然", "haoran"), ("子涵", "zihan"), ("欣怡", "xinyi"), ("宇轩", "yuxuan"),
    ("梓萱", "zixuan"), ("俊杰", "junjie"), ("思远", "siyuan"), ("雨桐", "yutong"),
    ("嘉怡", "jiayi"), ("志强", "zhiqiang"), ("海燕", "haiyan"), ("建华", "jianhua"),
    ("晓东", "xiaodong"), ("文博", "wenbo"), ("佳琪", "jiaqi"), ("一鸣", "yiming"),
]  # fmt: skip

EN_FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Emily Matthew Olivia "
    "Anthony Sophia Mark Grace Steven Chloe Andrew Hannah Kevin Lucy Brian Amelia George Ella "
    "Edward Zoe"
).split()

EN_LAST = (
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Jackson Thompson White Harris Clark Lewis Walker Hall Allen Young King Wright Scott Green "
    "Baker Adams Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards "
    "Collins"
).split()

# (English region name, Chinese name, share of zh_CN staff, account currency)
REGIONS = [
    ("East China", "华东", 0.95, "CNY"),
    ("North China", "华北", 0.95, "CNY"),
    ("International", "国际", 0.15, "USD"),
    ("South China", "华南", 0.95, "CNY"),
    ("West China", "华西", 0.95, "CNY"),
    ("Central China", "华中", 0.95, "CNY"),
    ("Northeast China", "东北", 0.95, "CNY"),
    ("Asia Pacific", "亚太", 0.3, "USD"),
]

CITIES = {
    "East China": ["上海", "杭州", "南京", "苏州", "宁波"],
    "North China": ["北京", "天津", "石家庄", "济南", "青岛"],
    "South China": ["广州", "深圳", "厦门", "福州", "东莞"],
    "West China": ["成都", "重庆", "西安", "昆明", "贵阳"],
    "Central China": ["武汉", "长沙", "郑州", "合肥", "南昌"],
    "Northeast China": ["沈阳", "大连", "长春", "哈尔滨", "吉林"],
    "International": ["Singapore", "London", "New York", "Sydney", "Frankfurt"],
    "Asia Pacific": ["Tokyo", "Seoul", "Bangkok", "Kuala Lumpur", "Jakarta"],
}

INDUSTRIES = [
    ("Manufacturing", "制造有限公司", "Manufacturing"),
    ("Retail", "零售连锁有限公司", "Retail"),
    ("Finance", "金融服务有限公司", "Capital"),
    ("Healthcare", "医疗器械有限公司", "Health"),
    ("Technology", "科技有限公司", "Systems"),
    ("Education", "教育科技有限公司", "Learning"),
    ("Energy", "能源股份有限公司", "Energy"),
    ("Logistics", "物流有限公司", "Logistics"),
]

ZH_COMPANY_CORE = (
    "华信 博远 鼎盛 恒通 瑞达 星辰 金桥 新锐 联创 远航 天成 中科 永安 嘉禾 凯达 海纳 东方 "
    "宏图 启明 万象 同创 泰和 明德 锦程"
).split()
EN_COMPANY_CORE = (
    "Northwind;Blue Harbor;Summit;Evergreen;Redwood;Silverline;Pioneer;Atlas;Horizon;Crescent;"
    "Granite;Lakeside;Orion;Sterling;Vertex;Meridian;Cobalt;Harbor Bay"
).split(";")
EN_COMPANY_SUFFIX = ["Ltd", "Inc", "Group", "Co.", "Pte Ltd"]

# (product, list price in CNY around which deal sizes vary)
PRODUCTS = [
    ("CRM Cloud", 60_000),
    ("Analytics Suite", 120_000),
    ("Data Platform", 300_000),
    ("Support Plus", 25_000),
    ("IoT Gateway", 80_000),
]

TITLES_ZH = ["采购经理", "IT总监", "总经理", "财务总监", "运营经理", "技术负责人"]
TITLES_EN = ["Procurement Manager", "IT Director", "CEO", "CFO", "Operations Manager", "CTO"]

LEAD_SOURCES = ["website", "referral", "trade_show", "cold_call", "partner", "webinar"]
LOST_REASONS = ["price", "competitor", "no_budget", "timing", "no_decision", "requirements"]

SURVEY_COMMENTS = {
    "zh_CN": ["服务很专业", "响应速度快", "价格偏高", "实施周期太长", "销售顾问很耐心", "", ""],
    "en": ["Very professional", "Quick response", "Too expensive", "Slow onboarding",
           "Great account manager", "", ""],
}  # fmt: skip
FEEDBACK_COMMENTS = {
    "zh_CN": ["目标分解更透明了", "希望考核指标更清晰", "辅导很有帮助", "权重设置不太合理", ""],
    "en": ["Targets are clearer now", "KPI weights feel arbitrary", "Coaching helped a lot",
           "Would like more frequent feedback", ""],
}  # fmt: skip
COACHING_NOTES = {
    "zh_CN": ["复盘丢单原因", "演练价格谈判", "梳理重点客户", "提升电话拜访质量"],
    "en": ["Reviewed lost deals", "Practised price negotiation", "Account planning",
           "Call quality review"],
}  # fmt: skip
