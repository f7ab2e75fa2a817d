"""The synthetic generator's text: per-theme vocabulary in English and Chinese, hashtags, user names.

Kept apart from :mod:`toolkit.data.synth.process` (the retention process) because it is mostly data.
"""

from __future__ import annotations

import numpy as np

# Text. Each theme has its own words in both languages, so a text model can
# find the theme (and with it part of the signal) in English or in Chinese.
_VOCAB = {
    "learning_chinese": dict(
        en_title=["Day 3 of learning Chinese", "My Mandarin notes", "Tones are hard", "Help me with my pinyin"],
        zh_title=["学中文第三天", "我的中文笔记", "声调好难", "请帮我纠正发音"],
        en=["Started learning Mandarin this week and I can already order tea.",
            "Can someone explain the four tones to me?", "Practicing characters every night before bed.",
            "My Duolingo streak is finally paying off.", "Please correct my Chinese in the comments!",
            "I wrote my first sentence in characters today.", "Learning Chinese so I can talk to all of you."],
        zh=["我正在学习中文，请多多指教。", "今天学会了写我的名字。", "汉字真的很难但是很有意思。",
            "有没有人愿意和我练习口语？", "我每天学十个新词。", "请大家帮我改一下语法。"],
        tags=["learnchinese", "mandarin", "学中文"], emoji=["📚", "✍️", "🀄", "🤓"]),
    "food": dict(
        en_title=["Tried hotpot for the first time", "Dumpling night", "What should I cook next?", ""],
        zh_title=["第一次吃火锅", "包饺子", "今天做什么菜", "美食分享"],
        en=["Made dumplings from scratch tonight and they actually held together.",
            "Your recipes here are amazing, I tried the tomato egg stir fry.",
            "Where do I find good Sichuan pepper in Ohio?", "Breakfast: jianbing attempt number two.",
            "Grandma's chili oil recipe, swapping for yours!", "Hotpot with friends, ten out of ten."],
        zh=["今天自己做了饺子，太好吃了！", "西红柿炒鸡蛋成功了。", "求推荐简单的家常菜。",
            "火锅真的太香了。", "第一次做麻婆豆腐。", "这个红烧肉的做法我学会了。"],
        tags=["food", "cooking", "美食"], emoji=["🥟", "🍜", "🌶️", "😋"]),
    "friends": dict(
        en_title=["Looking for friends", "Let's be friends!", "Pen pals?", "New here, say hi"],
        zh_title=["想交朋友", "找笔友", "一起聊天吧", "新人求关注"],
        en=["Looking for friends to chat with about anything.", "I'd love a pen pal from Shanghai or Chengdu.",
            "DM me if you want to practice English and I practice Chinese!",
            "Everyone here has been so kind, thank you for the welcome.",
            "Who wants to start a group chat for refugees and locals?", "Tell me about your city!"],
        zh=["想认识新朋友，欢迎私信。", "谢谢大家这么热情！", "可以互相学习语言吗？",
            "有没有一起聊天的朋友？", "你们好友善啊。", "来自美国，想交中国朋友。"],
        tags=["friends", "penpal", "交朋友"], emoji=["🤝", "💬", "🫶", "😊"]),
    "pets": dict(
        en_title=["Meet my cat", "My dog says hi", "Cat tax", ""],
        zh_title=["我的猫", "狗狗日常", "猫咪税", "萌宠"],
        en=["Paying the cat tax as is tradition.", "This is Biscuit, she is three and very dramatic.",
            "My dog refuses to walk in the snow.", "Post your pets so mine has friends!",
            "He knocked my coffee off the table again."],
        zh=["这是我家的猫，三岁了。", "我的狗狗不喜欢下雪。", "大家也发一下自己的宠物吧！",
            "猫咪又把杯子推下桌了。", "今天带狗去公园玩。"],
        tags=["pets", "cat", "萌宠"], emoji=["🐱", "🐶", "🐾", "😻"]),
    "makeup": dict(
        en_title=["Get ready with me", "Douyin makeup attempt", "Skincare routine", ""],
        zh_title=["化妆教程", "抖音妆尝试", "护肤分享", "今日妆容"],
        en=["Trying the douyin makeup look, be nice.", "My five step skincare routine for dry winter skin.",
            "Which blush should I buy next?", "Get ready with me for work.",
            "The eyeliner wing took forty minutes."],
        zh=["第一次尝试抖音妆。", "冬天干皮的护肤步骤。", "求推荐腮红！", "今天的妆容怎么样？",
            "眼线画了好久。"],
        tags=["makeup", "skincare", "美妆"], emoji=["💄", "✨", "🪞", "💅"]),
    "music": dict(
        en_title=["Original song", "Cover of a C-pop song", "Guitar practice", ""],
        zh_title=["原创歌曲", "翻唱", "吉他练习", "音乐分享"],
        en=["Wrote this song about moving apps, hope you like it.", "Learning a C-pop song on guitar.",
            "Indie artist here, sharing my music with a new audience.", "Recorded this in my bedroom last night.",
            "Send me your favorite Chinese songs!"],
        zh=["翻唱一首中文歌，请多指教。", "自己写的歌，希望你们喜欢。", "推荐一些好听的中文歌吧！",
            "昨晚在房间录的。", "练吉他第一百天。"],
        tags=["music", "indie", "音乐"], emoji=["🎸", "🎤", "🎶", "🎧"]),
    "travel": dict(
        en_title=["Planning a trip to China", "Visa-free transit?", "Road trip pics", ""],
        zh_title=["计划去中国旅游", "免签过境", "旅行照片", "旅行攻略"],
        en=["Planning my first trip to Beijing, any tips?", "Is the 144-hour visa-free transit real?",
            "Sunset from my road trip last summer.", "Which city should I visit first?",
            "Saving up to see the Great Wall."],
        zh=["想去北京旅游，有什么建议吗？", "第一次去中国应该去哪里？", "去年夏天的旅行照片。",
            "梦想是去看长城。", "求成都旅游攻略。"],
        tags=["travel", "china", "旅行"], emoji=["✈️", "🗺️", "🏯", "📸"]),
    "greeting": dict(
        en_title=["hi", "hello!", "Hello from the US", ""],
        zh_title=["你好", "大家好", "hello", ""],
        en=["hi from a TikTok refugee", "hello everyone, tiktok refugee here", "just got here, hi!",
            "hey guys, new from tiktok", "hi xiaohongshu"],
        zh=["你好，我是TikTok难民", "大家好！", "你好中国朋友", "新人报到", "我来了"],
        tags=["hello", "newhere"], emoji=["👋", "🙋", "🇺🇸", "😅"]),
}
_BASE_TAGS = (["tiktok", "tiktokrefugee"], ["tiktokrefugee"], ["TikTok", "tiktokrefugee", "xiaohongshu"], ["tiktok"])
OTHER_REGIONS = np.array(["Canada", "United Kingdom", "Australia", "Germany", "Philippines"])
_HANDLE_A = ["sleepy", "tiny", "cosmic", "salty", "lucky", "quiet", "spicy", "golden", "lazy", "brave"]
_HANDLE_B = ["mango", "panda", "otter", "noodle", "cactus", "river", "bean", "fox", "comet", "tofu"]
_NICKS = ["小鱼", "阿杰", "momo", "糖糖", "Lily🌸", "大白", "星星", "Jay"]


def _pick(options: list[str], u: float) -> str:
    return options[int(u * len(options))]


def user_names(rng: np.random.Generator, n: int) -> list[str]:
    """Invented handles: app defaults (``小红薯`` + hex), English handles and nicknames."""
    u = rng.random((n, 4))
    names = []
    for row, code in zip(u, rng.integers(0, 2**32, size=n)):
        if row[0] < 0.3:
            names.append(f"小红薯{int(code):08X}")
        elif row[0] < 0.8:
            names.append(f"{_pick(_HANDLE_A, row[1])}_{_pick(_HANDLE_B, row[2])}{int(row[3] * 100)}")
        else:
            names.append(_pick(_NICKS, row[1]) + str(int(code) % 1000))
    return names


def compose(rng: np.random.Generator, themes: np.ndarray, languages: np.ndarray) -> dict[str, list[str]]:
    """Title, content and label per post; content may span lines or be empty."""
    u = rng.random((len(themes), 10))
    titles, contents, labels = [], [], []
    for theme, lang, r in zip(themes.tolist(), languages.tolist(), u):
        v = _VOCAB[theme]
        tags = _BASE_TAGS[int(r[0] * len(_BASE_TAGS))] + v["tags"][: 1 + (r[1] < 0.4)]
        hashtags = " ".join(f"#{t}[话题]#" for t in tags)
        zh_title = lang == "zh" or (lang == "mixed" and r[2] < 0.5)
        title = "" if r[3] < 0.3 else _pick(v["zh_title"] if zh_title else v["en_title"], r[4])
        pools = {"en": [v["en"]], "zh": [v["zh"]], "mixed": [v["en"], v["zh"]]}[lang]
        if theme == "greeting":
            # One line, always: the "hi, I'm new" posts the theme stands for.
            body = " ".join(_pick(pool, r[5]) for pool in pools) + " " + _pick(v["emoji"], r[6])
            content = body + " " + hashtags if r[7] < 0.7 else body
        else:
            k = 1 + (r[5] < 0.5) + (r[5] < 0.15)
            start = int(r[6] * 100)
            # Consecutive picks (mod the list) so one post never repeats a sentence.
            sentences = [pools[i % len(pools)][(start + i) % len(pools[i % len(pools)])] for i in range(k)]
            sep = "\n" if r[7] < 0.35 else " "
            content = sep.join(sentences) + (" " + _pick(v["emoji"], r[8]) if r[8] < 0.6 else "")
            content += sep + hashtags if r[9] < 0.85 else ""
            if title and r[9] > 0.93:
                content = ""
        titles.append(title)
        contents.append(content)
        labels.append("#".join(tags))
    return {"title": titles, "content": contents, "label": labels}
