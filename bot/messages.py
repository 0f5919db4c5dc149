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
    "· 排行 /rank — 全市和本企业排行榜（排行 周/月/年/总/企业）\n"
    "· 复习 /review — 复习答错或快要忘记的题\n"
    "· 商城 /mall — 用积分兑换奖品（兑换 编号）\n"
    "· 隐藏排名 / 公开排名 — 是否在排行榜展示\n"
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
    "rank": "排行榜（周/月/年/总/企业）",
    "review": "复习答错或快忘的题",
    "mall": "积分商城",
    "redeem": "兑换商品，如 /redeem 1",
    "hide": "不在排行榜公开展示",
    "show": "恢复在排行榜展示",
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

# --- rewards -------------------------------------------------------------------------------
SIGNIN = "📅 今日签到 +{points} 积分"
STREAK_BONUS = "🔥 连续学习 {days} 天！+{points} 积分"
CAPPED = "（今日该项积分已达上限，明天再来）"
TOO_FAST = "⚠️ 答得太快了，本题不计积分。请认真读题后再作答。"
SLOW_DOWN = "操作太频繁了，请稍等一分钟再发送。"
DATA_PACK_WON = (
    "🎁 恭喜！你是全市第 {slot} 位完成两门必修课的学员，获得 10GB 手机流量包一份。\n"
    "请回复你的 11 位手机号码，我们将为该号码充值（号码加密保存，只用于充值）。"
)
DATA_PACK_GONE = "两门必修课已全部完成，太棒了！10GB 流量包（共 {limit} 份）已经全部发放完毕，感谢你的参与。"
PHONE_SAVED = "📱 已登记充值号码 {masked}，流量包将在 3 个工作日内到账。"
PHONE_INVALID = "手机号码应为 11 位数字（以 1 开头），请重新回复。"
ME_DATA_PACK = "🎁 流量包：第 {slot} 号，{phone}"
ME_DATA_PACK_NEED_PHONE = "请回复手机号码登记充值"
ME_DATA_PACK_LEFT = "🎁 10GB 流量包还剩 {left} 份（学完两门必修课即可领取）"
ME_STREAK_FREEZE = "本周的自动补签：{state}"
FREEZE_UNUSED = "可用（漏学一天不断签）"
FREEZE_USED = "已使用"
ME_FLAGGED = "⚠️ 账号正在核查答题记录，核查期间不参加抽奖。"
ME_HIDDEN = "你已设置不在排行榜公开展示（发送「公开排名」恢复）。"

REVIEW_HEADER = "🔁 今日复习：{count} 道题（你答错过或快要忘记的题）"
REVIEW_NONE = "今天没有需要复习的题目 👍 发送「学习」继续学新课。"
REVIEW_BUSY = "请先完成当前课程的答题，再来复习。"
REVIEW_DONE = "🔁 复习完成：答对 {correct}/{total} 题。"

MALL_HEADER = "🛒 积分商城（你的积分：{points}）"
MALL_LINE = "{id}. {name} — {cost} 积分（剩 {stock} 件，每人限 {limit} 件）"
MALL_EMPTY = "积分商城暂时没有商品，敬请期待。"
MALL_HOW = "回复「兑换 编号」兑换，例如：兑换 {example}"
REDEEM_OK = "✅ 兑换成功：{name}，扣除 {cost} 积分，剩余 {points} 积分。\n兑换码：{code}（请截图保存，凭码领取）"
REDEEM_NO_ITEM = "没有编号为 {id} 的商品。发送「商城」查看商品列表。"
REDEEM_NO_STOCK = "「{name}」已经兑完了，看看其他商品吧。"
REDEEM_LIMIT = "「{name}」每人限兑 {limit} 件，你已经兑换过了。"
REDEEM_POOR = "积分不足：「{name}」需要 {cost} 积分，你现在有 {points} 积分。"
REDEEM_HOW = "请回复「兑换 编号」，例如：兑换 1。发送「商城」查看商品。"

BOARD_PERIODS = {"week": "本周", "month": "本月", "year": "本年", "all": "累计"}
BOARD_TITLE = "🏆 全市{period}积分榜"
BOARD_ENT_TITLE = "🏭 {enterprise} {period}积分榜"
BOARD_AROUND = "📍 你的位置（全市第 {rank} 名，{points} 分）"
BOARD_SELF_LINE = "{rank}. {name}　{points} 分 ← 你"
BOARD_NOT_RANKED = "你{period}还没有积分，答对题目即可上榜。"
BOARD_PARTICIPATION = "🏭 企业参训榜（按完成两门必修课的人数）"
BOARD_PART_LINE = "{rank}. {name}　已完成 {trained} 人 / 注册 {registered} 人（{rate:.0%}）"
BOARD_OWN_ENTERPRISE = "你的企业「{name}」排第 {rank} 名。"
BOARD_MORE = "其他榜单："
HIDE_DONE = "好的，你已不在排行榜公开展示，积分和奖励不受影响。发送「公开排名」可恢复。"
SHOW_DONE = "好的，你的名字（打码显示）将出现在排行榜上。"

# --- Telegram ------------------------------------------------------------------------------
TELEGRAM_BUTTON_INVALID = "这个按钮无效或已过期，没有记录任何操作。发送「学习」继续学习。"
TELEGRAM_SUBMIT = "提交"
TELEGRAM_SUBMIT_SELECTED = "提交 {letters}"
TELEGRAM_SELECTED = "✅ {letter}"
TELEGRAM_PICK_FIRST = "请先点选答案（可多选），再点「提交」。"
TELEGRAM_CHOSEN = "你的选择：{letters}"

# --- WeChat / WeCom ----------------------------------------------------------------------------
# The menu (`jixing wechat menu`): WeChat allows 3 top-level buttons of ≤ 4
# characters, each with up to 5 sub-buttons of ≤ 8 characters.
MENU_LABELS = {
    "learn": "学习",
    "rank": "排行",
    "mine": "我的",
    "me": "我的记录",
    "mall": "积分商城",
    "help": "使用帮助",
}
