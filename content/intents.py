"""Rules for messages the library must not answer.

``classify_intent`` names the intents that must go to a person (the conversations code calls it):
stock picks, market predictions, requests to operate the account, complaints, asking for a human.
``is_small_talk`` spots greetings and chit-chat, which get no library answer either.
Patterns are checked against the starter pack's own question phrasings in the tests, so an ordinary
business question ("涨跌幅限制是多少", "怎么撤单") is never taken for one of these.
"""

from __future__ import annotations

import re
import unicodedata

from content.tokenize import normalise

STOCK_PICK, MARKET_PREDICTION = "stock_pick", "market_prediction"
ACCOUNT_OPERATION, COMPLAINT, HUMAN = "account_operation", "complaint", "human"
# Questions about the brokerage itself as a listed company or employer (its stock, results, staff pay)
# and requests for a promise of returns: no library item may answer either.
COMPANY, GUARANTEE = "company", "guarantee"
# Personal finance outside securities (credit cards, loans, insurance claims, social security, payroll tax):
# no library item answers it, and it needs no person either; the matcher abstains.
OTHER_FINANCE = "other_finance"
HANDOFF_INTENTS = (STOCK_PICK, MARKET_PREDICTION, ACCOUNT_OPERATION, COMPLAINT, HUMAN, COMPANY, GUARANTEE)

_STOCK = r"(股票|个股|股|票|基金|板块|概念股|转债|标的|龙头)"
_THIS = r"(这只|那只|这支|那支|这个股|这个票|这票|这股|它|(?<!\d)\d{6}(?!\d))"
_NOW = r"(现在|今天|明天|最近|下周|这周|本周|近期|当前|目前|年底|明年)"
# When a prediction is about: the future, or a move just seen (asked to be explained).
_WHEN = (r"(明天|明日|后天|下周|下个?月|下半年|后市|后面|接下来|未来|短期|最近|近期|这几天|这两天|这周|本周|今年|年底|明年|"
         r"上市(第一天|首日)|首日|开盘后)")
_NEXT = r"(会不会|能不能|会|能|还能|还会|可能|有没有可能)"
_MOVE = r"(再)?((升|涨)还是(贬|跌)|飙|涨|跌|升值|贬值|破发|破净|摘帽|回到|涨回|翻倍|降息|加息|降准|(很|更|变|走)(高|低)|(高|低)(吗|么|不)|反弹|回调)"
# Messages about fraud or about someone else acting are questions for the library, not requests.
_ABOUT_FRAUD = re.compile(r"骗|诈骗|非法|合法|冒充|核实|陷阱|荐股群|是真的吗|可信|能信|靠谱吗|防范|区别|有人说|自称|直播|网红|视频|抖音|快手|群")
_ABOUT_OTHERS = re.compile(r"家人|家里|子女|孩子|儿子|女儿|闺女|儿媳|女婿|孙子|孙女|亲戚|老伴|老公|老婆|父母|爸妈|我爸|我妈|老爸|老妈|爸爸|妈妈|朋友|别人|他人")
# Questions about a rule, legality or risk ("…算违法吗", "跌到多少会被强平", "有什么风险", "怎么算") are
# questions for the library, not picks, predictions or requests for a promise.
_ABOUT_RULES = re.compile(
    r"违法|违规|犯法|合法|合规|有(什么|哪些|啥)风险|风险(大|高)?(吗|么|不)|风险(是什么|在哪)|怎么算|如何算|怎么计算|"
    r"怎么收|(会|就|才)(被)?(强平|强制平仓|平仓|爆仓)|(会|就|才)被[^，。？！?!]{0,4}(卖掉|卖出|处置)|涨涨跌跌|警戒线|平仓线|规定|规则|(限制|上限|下限|门槛)(是)?多少|"
    # how prices move in general, what to weigh first, when a rule lets one sell
    r"会涨会跌|会跌会涨|最多(能)?(涨|跌)|自动(帮我)?(卖|买)|(这个|什么)功能|在哪(里|儿)?设置|涨跌(的)?原因|想清楚|(要|该)?注意(些)?(什么|哪些|啥)|(多久|几天|什么时候|哪天)(才)?(能|可以)(卖|买)")
# Asking what an adviser may do (「投资顾问能直接帮我操作账户不」) is a question about the service, not a request.
_ABOUT_ADVISER = re.compile(r"(投资顾问|投顾|顾问|客户经理).{0,24}?(能|会|可以)(不能|不会)?(直接)?(帮|替)我(操作|管|炒|交易)")
# Securities words: a message with one is left to the library (银证转账, 股息红利税, 借钱炒股, 个人养老金).
_SECURITIES = re.compile(
    r"股|证券|券商|账户|账号|基金|融资|融券|两融|逆回购|国债|债券|可转债|etf|分红|股息|红利|存管|银证|绑|转账|"
    r"转入|转出|出金|入金|个人养老金|理财|开户|中签|缴款|新股|打新")
_OTHER_FINANCE = re.compile(
    r"比特币|虚拟货币|数字货币|加密货币|以太坊|狗狗币|usdt|信用卡|分期|房贷|车贷|网贷|消费贷|装修贷|经营贷|信用贷|抵押贷|贷款|花呗|借呗|白条|(借|贷)(我|给我)(点|些|一点|一些|点儿)?钱|借(点|些)钱|(能|可以)借钱|"
    r"保险(怎么|如何|理赔|报销|买|续保|退保)|理赔|车险|(重疾|寿|医疗|意外|财产|人身)险|医保|社保|公积金|退休金[^，。？！?!]{0,4}(怎么|多少|涨|调|领|算)|养老保险|工资(条|个税|扣税|交税|怎么算)|"
    r"年终奖|专项附加扣除|个税(退税|汇算|app)|(银行)?(存款|定期)利率|大额存单")
# 「我不是问你会不会涨，就是想知道…」: the client says outright that it is not a prediction or a pick.
_NOT_ASKING = re.compile(r"不是(问|想问|要问|让你)")
# Someone impersonating the brokerage is a fraud question, not a complaint about it (「有人假扮券商骗钱…哪里看案例」).
_IMPERSONATION = re.compile(r"假扮|冒充|假冒|典型案例|风险提示")
# Describing an order that sells by itself (「跌到多少就自动帮我卖掉，这个功能在哪设置」) asks about conditional orders.
_AUTOMATIC_ORDER = re.compile(r"自动(帮我|给我|替我)?(卖|买)|条件单")
# No guard clears a request made outright: a message opening with 帮我 (「帮我查一下我老公的账户」), or 「你帮我把…」.
_REQUEST = re.compile(r"^(请|麻烦)?(你|您)?(帮|替)(我|俺)|(你|您)(帮|替)(我|俺)(把|查|看|改|重置|办|弄|操作)")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (COMPLAINT, re.compile(
        r"投诉|举报|12386|(?<!怎么)(?<!咋)(?<!如何)(?<!怎样)(?<!去哪)(?<!在哪)(?<!哪里)(?<!哪儿)(?<!渠道)(?<!途径)(?<!方式)维权|索赔|赔偿|赔钱|(要|得|必须)?赔(我|给我)|退钱|坑人|坑钱|骗钱|太坑|黑心|垃圾券商|垃圾公司|"
        r"态度(太|很|真|好)?差|(你们|你|公司|券商)凭什么|[，,\s]凭什么[?？!！。]*$|效率(也|真|实在)?(太|真|好|这么)低|(破|烂)(服务|公司|券商|app|软件|系统|平台|玩意)|什么破|看不起(我们|人|散户|小散)|(能不能|可不可以|就不能)[^，。？！?!]{0,4}(靠谱|专业|上心|用心)(一)?点|慢死了|慢得要死|(系统|app|软件|平台)(到底|究竟)(行不行|能不能用)|太(垃圾|烂|差劲)了?|(吐了|无语|服了)[!！。~～?？]*$|搞什么(鬼|名堂|飞机)|(一直|总是|老是)打不通|不满意|差评|曝光你们|告你们|起诉你们|向监管(部门)?反映")),
    (HUMAN, re.compile(
        r"(转|找|要|接|叫|换)(个)?(人工|真人|活人)|人工(客服|服务)|真人(客服|回复)|(你是|是不是)(机器人|ai|人工智能)|"
        r"(找|叫|让|要)(你们)?(的)?(客户经理|经理|领导|负责人|投顾老师|理财经理)(来|跟我|和我|联系|说|处理)?$|"
        r"给我打(个)?电话|打电话给我(吧|好吗|可以吗)?[?？。!！]*$|(请|麻烦|尽快|马上)(联系|回电)我|联系我(吧|一下)|"
        r"不要机器人|别用机器人")),
    (ACCOUNT_OPERATION, re.compile(
        r"(帮|替|代)(我|俺|咱)(们)?[^，。？！?!]{0,8}?(买|卖|下单|下个单|下一单|操作|交易|申购|赎回|抢|挂单|清仓|建仓|加仓|"
        r"减仓|撤单|打新|转账|理财|管理账户|炒|撤|转|改|重置|开通|登|查|解冻|解锁|销户|绑|换|挂|申请|提现|取|"
        r"还(一下|下|掉|了|款|上|清))|"
        r"(给|帮|替)(我|俺)(在[^，。？！?!]{1,6})?把[^，。？！?!]{0,10}(撤|卖|买|改|转|开|换|绑|解|销|挂|清|重置|设|登|取|还|调|平|申购|赎回|交)|"
        r"(帮|替)(我|俺)(设|设置|挂)(个|一个|一下|下)?[^，。？！?!]{0,4}(单|止损|止盈)|"
        r"(帮|替)(我|俺)(看看|看下|看一下|瞧瞧)(我的)?(持仓|仓位|账户|股票|基金|组合)|"
        r"代客(操作|交易|理财|下单)|(你|您)把(验证码|密码|动态码)(告诉|发|给)(我|俺)|代(我)?操作|帮忙(买|卖|下单|操作|清仓)|(账户|账号|密码)(给你|交给你|发给你|借给你)|"
        r"(把|将)(我的)?(账户|账号|密码)(给|交给|发给|借给)(你|您)|(你|您|你们)(帮|替)我(管|操作|炒)|全权(委托|交给)")),
    (STOCK_PICK, re.compile(
        r"(给|帮)我荐股|荐(个|几只|一只|只)股|(帮|替|给)(我|俺)(选|挑)(一|几|两)?(只|个|支|款)|(帮|替|给)(我|俺)(拿|出)(个)?主意|"
        r"买(认购|认沽|看涨|看跌)还是|(卖|抛|出掉?)还是(多|再|继续)?(拿|留|持有|捂)|(你)?建议我(怎么|如何)(操作|做)|"
        r"(能|可以|要不要|该不该)(不能)?赌一把|你自己(买|持有|炒|拿)(的|了)?(什么|啥|哪)|"
        r"推荐[^，。？！?!]{0,6}" + _STOCK + r"|推荐[^，。？！?!]{0,4}(理财|产品)|"
        r"(理财|产品|基金|股票)[^，。？！?!]{0,2}推荐|(收益|涨幅|涨得|回报)最(高|多|大|好)|最(赚钱|能涨)|"
        r"买(哪个|哪种|哪类|哪一个|哪一种|哪家)|买[^，。？！?!]{1,8}还是[^，。？！?!]{1,8}(好|划算|合适|强)(呢|啊)?[?？]*$|"
        r"哪(个|只|支|些)[^，。？！?!]{0,8}(涨得(多|快|好)|能涨|会涨|能摘帽|会摘帽|翻倍)|(还能|还可以|能不能)追(吗|么|不|嘛|高)?[?？]*$" +
        r"|" + _NOW + r"买(什么|啥|哪个|哪只|哪支|哪些)|买(什么|啥|哪个|哪只|哪支|哪些)" + _STOCK +
        r"(好|比较好|赚|能涨|会涨|收益)|(哪只|哪支|哪个|什么|啥)" + _STOCK + r"(能涨|会涨|好|最好|值得|赚钱)|牛股|妖股|"
        r"涨停(股|板)?(推荐|预测)|" + _THIS + r"[^，。？！?!]{0,8}(能|可以|值得|适合|还能|要不要|该不该)(买|卖|入手|抄底|"
        r"上车|加仓|持有|拿|补仓|割肉|止损)|(值得|适合)(买|入手|投资|上车)(吗|么|不|嘛)|(能不能|可不可以|能否)(一直|继续|长期)?(拿着|持有|拿)(不动|下去)?(吗|么|呢)?[?？]*$|(要不要|该不该|应不应该|应该不应该)"
        r"(赶紧|马上|现在|先|直接)?(买|卖|加仓|补仓|割肉|止损|抄底|清仓|持有|拿着|卖掉|跑(?!营业部|一趟|趟|柜台|银行|现场))|(该|要|能|可以)?(割肉|补仓|抄底|上车)|(该|要)止盈|"
        r"(?<!\d)\d{6}(?!\d).*(怎么样|如何|能买|能拿|前景|目标价)|目标价|内幕消息|内部消息|有没有消息|带我(炒|赚)|"
        r"哪(一|几)?(只|支)[^，。？！?!]{0,8}(值得|好|能|可以|最|会|申购|买|赚|靠谱|稳)|"
        r"哪(个|些|几个)(股票|个股|基金|新股|转债|债|etf|板块)[^，。？！?!]{0,4}(值得|好|能涨|会涨|最|赚|收益)|"
        r"哪(个|些|几个|种|类|款|家|只|支)[^，。？！?!]{0,10}(最值得|最好|最稳|最赚|最划算|最靠谱|收益最高|回报最高|能涨|会涨|推荐)|"
        r"(什么|啥)[^，。？！?!]{0,8}(最值得|最好|最赚钱|收益最高|回报最高)|推荐(一|几|两|三|个)(只|支|个|款|些)|"
        r"(最近|现在|目前|近期)(有)?(什么|啥|哪些)(热点|机会|题材|风口)|"
        r"值得(买|申购|入手|投资|上车|打|参与|持有|拿|配置)|"
        r"(现在|目前|当前|这时候|这个时候)[^，。？！?!]{0,8}(合适|是时候|好时机|时机)|"
        r"(现在|目前|当前|这时候|这个时候)(还)?(能|可以|适合)(买|入手|进场|上车|加仓)(吗|么|不|嘛)?[?？]*$|"
        r"(今年|去年|最近|近期|近一年|这几年)[^，。？！?!]{0,3}(收益|业绩|表现|涨幅)(怎么样|如何|好不好|多少|高不高)")),
    (MARKET_PREDICTION, re.compile(
        r"(大盘|行情|股市|a股|市场|指数|上证|沪指|深成指|创业板指|恒指|港股|美股|黄金|金价|汇率|后市|明天|下周|"
        r"今天|下午|节后|年底|明年|未来)[^，。？！?!]{0,8}(会|能|要|还)(不会)?(涨|跌|反弹|回调|见底|见顶|崩|暴跌|大涨|翻红|翻绿)|"
        r"(会不会|能不能|会否)(涨|跌|反弹|见底|见顶|崩盘|暴跌)|(什么时候|何时|会不会|还会|还要)(再)?(降息|加息|降准)|"
        r"还(会|能|要)(继续|再)?(涨|跌|升值|贬值|走高|走低)(吗|么|多少)?|(涨|跌)到(多少|哪|几)|(会|是)?涨还是(会)?跌|"
        r"(这只|那只|这支|我这|我的|它)[^，。？！?!]{0,6}(能|会)(摘帽|摘星)(吗|么|不|嘛)|(能|会)中签(吗|么|不|嘛)|(能|会)赚多少|"
        r"(汇率|人民币|美元|港币|大盘|指数|沪指|上证|深成指|恒指|金价|黄金)[^，。？！?!]{0,6}(能|会|要)(跌)?破\d|(上市|首日|第一天)[^，。？！?!]{0,6}(能|会|可以)?赚多少|"
        # policy moves (税、费、利率): 「股息红利税以后会不会取消」「印花税还会再降吗」
        r"(以后|将来|今后|未来|今年|明年|还)(会不会|会|能不能)(再)?(取消|下调|上调|降低|提高|调整|恢复)|还会再(降|涨|调|减半|提高)|"
        r"(能|会|要|可以)(到|上|破|跌破|站上)\d{3,5}点|"
        r"(行情|大盘|后市|股市|指数|a股|市场)[^，。？！?!]{0,4}(怎么走|走势|怎么看|如何看|怎么样)|"
        r"价[^，。？！?!]{0,4}(会|能|要|还)(不会)?(涨|跌|反弹|回调)|什么时候[^，。？！?!]{0,3}牛市|"
        r"(预测|判断|分析)(一下)?(行情|大盘|走势|后市|股价|点位)|走势(如何|怎么样|会怎样)|(多久|多长时间|几年)(才)?(能)?(解套|回本)|(能|会)(回到|涨回|跌回)[一二三四五六七八九]千点|什么时候[^，。？！?!]{0,3}(涨|跌|见底|见顶|反弹|解套|回本|(能|会|才)(降|升|下调|上调)(到|至)?)|"
        r"牛市(来了|什么时候|要来)|熊市(结束|什么时候)|(明天|下周|后市|后面|接下来)(怎么|怎样)(走|看)|能涨到|会涨到|会跌到|" +
        _WHEN + r"[^，。？！?!]{0,8}" + _NEXT + r"[^，。？！?!]{0,3}" + _MOVE + r"|" +
        _WHEN + r"[^，。？！?!]{0,6}(怎么走|走势|怎么看|如何走)|(汇率|金价|油价|房价|币价)[^，。？！?!]{0,6}(怎么走|走势)|"
        r"(会|能|将|要)(冲|涨|跌|升|降|回落|飙)?(到|至)多少|(涨|翻)(了)?几倍|(能|会)(升值|贬值)|(能|会)(回到|涨回|跌回)\d|"
        r"(今天|今日|昨天|最近|近期|这几天|这两天)[^，。？！?!]{0,6}为(啥|什么|何)[^，。？！?!]{0,4}(跌|涨)|"
        r"为(啥|什么|何)(一直|又|老是|连续|天天)(跌|涨)|(跌|涨)(了)?(这么多|这么狠|成这样)")),
    (COMPANY, re.compile(
        r"(你们|贵|你家)(公司|券商|证券|司)(自己)?(的)?[^，。？！?!]{0,8}(股票|股价|代码|业绩|年报|财报|市值|利润|营收|净利|分红|派息|股息|每股|送股|"
        r"老板|董事长|总裁|排名|上市)|你们(的)?(老板|董事长|总裁|总经理)(是谁|叫什么)?|"
        r"你们(公司|券商)?(的)?员工(的)?(工资|待遇|收入)|(你们|贵)(公司|券商)?[^，。？！?!]{0,4}(招人|招聘|实习|校招|社招|缺人)|"
        r"(投|发)简历|(去|来)你们(公司|那)?(实习|上班|工作)")),
    (GUARANTEE, re.compile(
        r"(能|可以|敢|能不能|可不可以)保证[^，。？！?!]{0,8}(不亏|赚|收益|年化|中签|回本|盈利|不跌|涨|%)|"
        r"保证(?!金)[^，。？！?!]{0,6}(不亏|收益|赚|盈利|年化|回本|\d+%)|"
        r"(有没有|有无|有什么|推荐|给我|求|来个|来点|找)[^，。？！?!]{0,6}(稳赚|稳赢|包赚|只赚不赔|稳拿|保本保收益|保收益|零风险高收益)|"
        r"(稳赚|稳赢|包赚|只赚不赔|保本保收益|保收益|零风险高收益)[^，。？！?!]{0,4}(产品|理财|基金|办法|门路|项目)"
        r"[^，。？！?!]{0,2}(有吗|有没有|有不|推荐)|"
        r"(能|可以|会)(稳|保证)(拿|赚|赢|收)[^，。？！?!]{0,6}(\d|%|分红|收益|利息)")),
]
# Questions about the client's own account data (「我上个月交了多少手续费」「我的风险测评是不是过期了」): only a person
# who can look at the account answers them; "how do I find…" forms stay with the library.
_PERSONAL_LOOKUP = re.compile(
    r"^(?!.*(账号|怎么|如何|怎样|算不算|想不起|能买|不够|分别|为什么|为啥|哪(里|儿)?(能|可以)?(看|查|找))).*?("
    r"(^|[，,。\s])(我|俺)(的|现在的|目前的|这个月的?|上个?月的?|今年的?|去年的?|这次的?|上次的?)?[^，。？！?!]{0,14}"
    r"(是多少|有多少|还有多少|剩多少|还剩多少|交了多少|扣了多少|花了多少|收了多少|拿了多少|赚了多少|亏了多少|"
    r"一共[^，。？！?!]{0,6}多少|到账了(吗|没|么)|到账没|成功了(没|吗|么)|过期了(吗|没|么)|到期了(吗|没|么)|是哪(天|个|家|一天)|"
    r"哪天开的|在哪个营业部|够[^，。？！?!]{0,8}(了吗|了没)|开通了(吗|没)|开了没|有没有开(通)?|算几次|是不是休眠|是不是过期|是什么(风险)?等级|是几级|是[cr]几|(通过|批下来|办好|办完|审完|下来)了(没|吗|么)|通过没|是哪(个|一)?(级|等级))|"
    r"[？?，,]\s*(你|您)?(帮我|麻烦|帮忙)(看看|查查|查一下|看一下|看下|查下)(吧|呗|呀)?[。!！~]*$|"
    # the status of a request the client made: 「上周提交的销户申请办好了没有」
    r"(提交|申请|办理?|交|转|汇)的[^，。？！?!]{0,10}(办好|通过|到账|处理好|批下来|审核完|审好)了(没有|没|吗|么)|"
    r"发我(一下|一份|看看)|(我的|我)[^，。？！?!]{0,8}(手机号)是(多少|什么|哪个))")
_PATTERNS.append((ACCOUNT_OPERATION, _PERSONAL_LOOKUP))
_PATTERNS.append((OTHER_FINANCE, _OTHER_FINANCE))
# Markets and products a securities library does not cover (futures, forex, precious metals, private funds,
# trusts, P2P, foreign-currency wealth products, US shares): other finance even with a securities word in the
# message (「期货账户怎么开」「私募基金怎么买」); not the options rules' 「期货交易经历」.
_OTHER_MARKETS = re.compile(
    r"(?<!金融)期货(?!(交易)?经历|经验)|外汇(?!等投资)|贵金属|现货黄金|原油|螺纹钢|私募|信托|p2p|"
    r"(美元|日元|欧元|英镑)(理财|汇率|存款|定存)|美股")
_OTHER_MARKETS_GUARD = re.compile(r"(没|没有|未)(做过|炒过|玩过)?期货|期货(交易)?经历|期货(公司)?(的)?经历|期权")
_GUARDS = {STOCK_PICK: (_ABOUT_FRAUD, _ABOUT_RULES, _NOT_ASKING), HUMAN: (_ABOUT_FRAUD,), COMPLAINT: (_IMPERSONATION,), ACCOUNT_OPERATION: (_ABOUT_OTHERS, _ABOUT_ADVISER, _AUTOMATIC_ORDER),
           COMPANY: (_ABOUT_FRAUD,), GUARANTEE: (_ABOUT_FRAUD, _ABOUT_RULES), MARKET_PREDICTION: (_ABOUT_RULES, _NOT_ASKING),
           OTHER_FINANCE: (_SECURITIES,)}
# What makes an intent's guards not apply.
_OVERRIDES = {ACCOUNT_OPERATION: _REQUEST}
# (intent, pattern, guards, override) in the order they are tried; a pattern with guards of its own names them here.
_RULES = [(intent, pattern, _GUARDS.get(intent, ()), _OVERRIDES.get(intent)) for intent, pattern in _PATTERNS]
_RULES.append((OTHER_FINANCE, _OTHER_MARKETS, (_OTHER_MARKETS_GUARD,), None))

_SMALL_TALK = re.compile(
    r"^(你好|您好|hi|hello|hey|嗨|哈喽|在吗|在不在|在么|在不|在嘛|有人吗|了解了?|早上好|早安|中午好|下午好|晚上好|晚安|"
    r"谢谢|谢了|多谢|感谢|好的|好吧|好|嗯|嗯嗯|哦|哦哦|ok|收到|明白|知道了|行|可以|拜拜|再见|"
    r"哈+|呵+|嘿+|[?？!！。.~～👍🙏]+)(啊|呀|哈|啦|了|哦|喔|呢|哟|嘛|~)*[!！。.~～?？]*$")
_CHITCHAT = re.compile(
    r"你(叫什么|几岁|多大|是男|是女|吃饭|喜欢|会唱|结婚|住哪|是谁)|讲个笑话|天气(怎么样|如何|好)|"
    r"(吃了吗|吃饭了吗|吃了没|下班了吗)|无聊|陪我聊|聊聊天|你真(棒|好|聪明|笨)|我(好|很)?(无聊|开心|难过|累)|"
    r"辛苦(了|啦|你了)|一起(吃|喝|玩|出去|看电影)|好吃的|外卖|送(什么|啥)礼物|好玩的|(写|做)(个|一下)?(周报|作业|论文)|"
    # everyday errands and health: nothing a brokerage library answers
    r"(早饭|午饭|晚饭|中午|晚上|今晚|早上|夜宵)[^，。？！?!]{0,3}吃(什么|啥)|吃(什么|啥)药|(下雨|下雪|气温|刮风)(吗|么|不)|"
    r"(订|买|抢)(一|两|张)?[^，。？！?!]{0,6}(机票|高铁票|火车票|车票|电影票|门票)|(机票|高铁票|火车票|电影票|门票)(怎么|在哪|哪里)(买|订|退)|(写|开)(个|一)?(张|份)?请假条|"
    r"办(个)?护照|怎么办(护照|签证|身份证)|发烧|感冒|血压|头疼|(老婆|老公|女朋友|男朋友)(生气|吵架)")
_CLAUSES = re.compile(r"[，,。.!！~～;；\s]+")
_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Cf", "Mn", "Cs"})  # emoji, skin tones, joiners, variation selectors


def classify_intent(text: str) -> str | None:
    """The must-go-to-a-person intent of a client message, or None."""
    clean = normalise(text or "")
    if not clean:
        return None
    for intent, pattern, guards, override in _RULES:
        guarded = any(g.search(clean) for g in guards) and not (override is not None and override.search(clean))
        if pattern.search(clean) and not guarded:
            return intent
    return None


def _without_symbols(text: str) -> str:
    """Emoji and other symbols dropped (「收到👌」「好的👍🏻」 are 「收到」「好的」)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in _SYMBOL_CATEGORIES).strip()


def is_small_talk(text: str) -> bool:
    raw = normalise(text or "")
    clean = _without_symbols(raw)
    if raw and not clean:
        return True  # nothing but emoji
    if _SMALL_TALK.match(clean) or _CHITCHAT.search(clean):
        return True
    # "谢谢啊，辛苦了", "中午好呀 吃了没": every clause is a greeting or chit-chat.
    parts = [p for p in _CLAUSES.split(clean) if p]
    return len(parts) > 1 and all(_SMALL_TALK.match(p) or _CHITCHAT.search(p) for p in parts)
