"""Where the dealer is, from what its form prints (its name, address, phone's city), as a plate's
province: most of a dealership's customers drive local cars, so a plate whose province character
OCR lost or misread is offered with the dealer's province, for the clerk to confirm.

The tables are the provinces (GA 36's one-character abbreviations) and the prefecture-level cities
of mainland China that have dealerships of every brand; a city not listed gives no province, and
a form naming cities of two provinces gives none either.
"""

from __future__ import annotations

import re
from collections import Counter

# province (and autonomous region, municipality) names as printed in addresses
PROVINCE_NAMES = {
    "北京": "京", "天津": "津", "上海": "沪", "重庆": "渝", "河北": "冀", "河南": "豫", "云南": "云",
    "辽宁": "辽", "黑龙江": "黑", "湖南": "湘", "安徽": "皖", "山东": "鲁", "新疆": "新", "江苏": "苏",
    "浙江": "浙", "江西": "赣", "湖北": "鄂", "广西": "桂", "甘肃": "甘", "山西": "晋", "内蒙古": "蒙",
    "陕西": "陕", "吉林": "吉", "福建": "闽", "贵州": "贵", "广东": "粤", "青海": "青", "西藏": "藏",
    "四川": "川", "宁夏": "宁", "海南": "琼",
}

_CITIES_BY_PROVINCE = {
    "冀": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水",
    "豫": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店",
    "云": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 大理 红河",
    "辽": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳市 葫芦岛",
    "黑": "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化",
    "湘": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底",
    "皖": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "鲁": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽",
    "新": "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉 库尔勒 阿克苏 喀什 伊犁 石河子",
    "苏": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 昆山 江阴",
    "浙": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 义乌",
    "赣": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "鄂": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施",
    "桂": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "甘": "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南",
    "晋": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "蒙": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布",
    "陕": "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛",
    "吉": "长春 吉林市 四平 辽源 通化 白山 松原 白城 延边",
    "闽": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德",
    "贵": "贵阳 六盘水 遵义 安顺 毕节 铜仁",
    "粤": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮",
    "青": "西宁 海东",
    "藏": "拉萨 日喀则 林芝",
    "川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 凉山 西昌",
    "宁": "银川 石嘴山 吴忠 固原 中卫",
    "琼": "海口 三亚 儋州",
}
CITIES = {city: prov for prov, names in _CITIES_BY_PROVINCE.items() for city in names.split()}
PLACES = {**PROVINCE_NAMES, **CITIES}
# a place name in a street's name is no place (上海市南京西路, 广州市北京路, 中山大道)
_STREET = re.compile(r"[东西南北中]?(?:路|街|大道|巷|道)")


def local_province(text: str) -> tuple[str, str] | None:
    """The province the places named in ``text`` are in, and the first place named; None when none
    is named or places of two provinces are (a longer name counts once: 吉林市 is not 吉林 too; a
    street named after a city is not that city)."""
    found: Counter[str] = Counter()
    first: dict[str, tuple[int, str]] = {}
    taken = [False] * len(text)
    for name in sorted(PLACES, key=len, reverse=True):
        start = text.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(taken[start:end]) and not _STREET.match(text, end):
                for i in range(start, end):
                    taken[i] = True
                prov = PLACES[name]
                found[prov] += 1
                if prov not in first or start < first[prov][0]:
                    first[prov] = (start, name)
            start = text.find(name, start + 1)
    if len(found) != 1:
        return None
    prov = next(iter(found))
    return prov, first[prov][1]
