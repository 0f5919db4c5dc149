"""Every word the bot says to a worker, in Simplified Chinese (one catalogue per language)."""

from __future__ import annotations

GROUPS = {1: "新到珠产业工人", 2: "产业工人", 3: "骨干专业技术人才", 4: "经营管理人员"}

WELCOME_NEED_INVITE = (
    "欢迎来到「技行」学习平台！👷\n"
    "请发送你所在企业的邀请码（向企业管理员索取，例如 DEMO）。"
)
INVITE_UNKNOWN = "没有找到邀请码「{code}」对应的企业，请核对后重新发送（字母和数字，不区分大小写）。"
ASK_NAME = "欢迎加入「{enterprise}」！\n请回复你的真实姓名（2-20 个字），用于学习记录和证书。"
NAME_INVALID = "姓名需要 2-20 个字，不能含数字或符号，请重新回复你的姓名。"
ASK_GROUP = (
    "{name}，你好！请选择你的人群分类，回复数字 1-4：\n"
    "1. 新到珠产业工人\n2. 产业工人\n3. 骨干专业技术人才\n4. 经营管理人员"
)
GROUP_INVALID = "请回复 1、2、3 或 4 选择人群分类。"
JOINED = (
    "注册完成！🎉 你是「{enterprise}」的{group}。\n"
    "必修课程：珠海通、安全通，学完可得学分；前 20000 名完成两门必修课的学员可获赠 10GB 流量包。\n"
    "发送「学习」开始第一课，发送「帮助」查看全部功能。"
)
ALREADY_JOINED = "欢迎回来，{name}！你属于「{enterprise}」。发送「学习」继续学习，「我的」查看学习记录。"
NEED_JOIN_FIRST = "请先完成注册："

HELP = (
    "「技行」可以这样用：\n"
    "· 学习 /learn — 学下一课并答题\n"
    "· 我的 /me — 积分、学分、连续学习天数和课程进度\n"
    "· 排行 /rank — 全市和本企业排行榜\n"
    "· 帮助 /help — 显示本说明\n"
    "答题时回复选项字母（如 A，多选如 AC），判断题回复 A（正确）或 B（错误）。"
)
UNKNOWN = "没听懂「{text}」。发送「学习」开始学习，或发送「帮助」查看全部功能。"
UNKNOWN_EMPTY = "这类消息暂时无法处理。发送「学习」开始学习，或发送「帮助」查看全部功能。"
SORRY = "抱歉，系统刚才出了点问题，请稍后再试。你的学习记录不会丢失。"

LESSON_HEADER = "📘 {course} · 第 {index}/{total} 课：{title}"
LESSON_FOOTER = "本课共 {count} 道题，答对 {need} 道即通过。"
QUESTION_KINDS = {"single": "单选", "multiple": "多选", "truefalse": "判断"}
QUESTION = "第 {pos}/{total} 题（{kind}）\n{prompt}"
ANSWER_HINT = {
    False: "回复选项字母作答，如 A",
    True: "多选题：回复全部正确选项字母，如 AC",
}
ANSWER_RIGHT = "✅ 回答正确！"
ANSWER_WRONG = "❌ 回答错误。正确答案：{answer}"
ANSWER_POINTS = "（+{points} 积分）"
EXPLANATION = "解析：{explanation}\n依据：{basis}"
INVALID_ANSWER = "请回复选项字母作答（可选：{letters}）。"
STALE_CHOICE = "这道题已经作答过或已过期，无需重复作答。发送「学习」继续。"
LESSON_PASSED = "📗 本课完成：答对 {correct}/{total} 题，通过！"
LESSON_FAILED = "📕 本课完成：答对 {correct}/{total} 题，未达到通过线（{need} 题）。发送「学习」重新学习本课。"
POINTS_GAINED = "+{points} 积分（{reason}）"
COURSE_DONE = "🎓 恭喜！你已学完《{course}》全部课程，获得 {credits:g} 学分。"
NEXT_HINT = "发送「学习」继续下一课。"
ALL_DONE = "太棒了！你已经学完全部课程。🎉 发送「我的」查看学习记录。"
CONTINUE_LABEL = "继续学习"
ME_LABEL = "我的"

ME = (
    "👤 {name}（{enterprise} · {group}）\n"
    "积分：{points}　学分：{credits:g}\n"
    "连续学习：{streak} 天　答题：{answers} 道（答对 {correct} 道）"
)
ME_COURSE = "{mark} {title}{required}：{done}/{total} 课{credit}"
ME_REQUIRED = "（必修）"
ME_CREDIT = " ✓ 已获 {credits:g} 学分"

RANK_CITY = "🏆 全市积分榜（前 {n} 名）"
RANK_ENTERPRISE = "🏭 {enterprise} 企业内排行（前 {n} 名）"
RANK_LINE = "{rank}. {name}　{points} 分"
RANK_EMPTY = "暂无数据"
RANK_SELF = "你的排名：全市第 {city} 名，企业内第 {ent} 名（{points} 分）"
RANK_RULE = "排名规则：{rule}"

LESSON_RESENT = "继续上次的课程："
UNSUBSCRIBED = "已取消关注。"
RANK_NONE = "你还没有上榜：答对题目即可获得积分。"
COMMAND_DESCRIPTIONS = {
    "start": "加入或重新开始",
    "learn": "学习下一课",
    "me": "我的学习记录",
    "rank": "排行榜",
    "help": "使用帮助",
}
TEXT_OPTIONS = "👉 回复{hints}"
IMAGE_LINK = "🖼 配图：{url}"
DEMO_BANNER = (
    "技行 · 终端演示（数据库：{db}）\n"
    "你正以工人身份和机器人对话（账号 console:{user}）。示范企业邀请码：{invite}\n"
    "先发送「开始 {invite}」注册；之后「学习」「我的」「排行」「帮助」。按 Ctrl-D 退出。"
)
DEMO_ENTERPRISE = "技行示范企业"
