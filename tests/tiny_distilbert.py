"""A tiny randomly initialized DistilBERT, built offline, for tests of the ``distilbert`` featurizer.

The folder it writes (``config.json``, weights, tokenizer files) is what
``save_pretrained`` writes for a real checkpoint, so ``DistilBertFeaturizer(model=folder)``
loads it through the same ``AutoTokenizer``/``AutoModel`` path as
``distilbert-base-multilingual-cased``.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ENGLISH_WORDS = """
the a to and of i you it is in for on my this that with be have are was so just but not what
me at from like love all your here do we they no get can one day first time new people good
hello hi how thank thanks tiktok app cat dog food cook dumplings recipe learning chinese
english friend friends welcome beach sunset travel outfit art drawing practice challenge fun
lol comments page post american canada texas greetings corner delicious fluffy lazy luck
""".split()
WORDPIECES = "##s ##ed ##ing ##ly ##er ##est ##y ##e ##a ##o ##i ##n ##t ##r ##l".split()
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
PUNCTUATION = list("!?.,:;'\"()#[]-=@&%*+/")
COMMON_CJK = (
    "的一是不了人我在有他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美"
    "相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水"
    "名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期"
    "市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色"
    "路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言"
    "联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集"
    "百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委"
    "乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希"
    "古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答"
    "紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朋谢欢迎猫咪晚饭番茄炒蛋吃旅游爬风景"
)


def _vocabulary() -> list[str]:
    seen: dict[str, None] = {}
    for token in (*SPECIAL_TOKENS, *ENGLISH_WORDS, *WORDPIECES, *LETTERS, *PUNCTUATION, *COMMON_CJK):
        seen.setdefault(token, None)
    return list(seen)


def build_tiny_distilbert(folder: str | Path, *, seed: int = 0) -> str:
    """Write a tiny DistilBERT (dim 32, 2 layers, 2 heads) and its WordPiece tokenizer to ``folder``.

    Args:
        folder: Where to save; created if missing.
        seed: Seed for the random weights.

    Returns:
        The folder, as a str, ready for ``DistilBertFeaturizer(model=...)``.
    """
    import torch
    import transformers
    from transformers import DistilBertConfig, DistilBertModel, DistilBertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = _vocabulary()
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 builds the tokenizer from a vocab mapping (and ignores vocab_file); 4.x reads vocab.txt.
    if int(transformers.__version__.split(".")[0]) >= 5:
        tokenizer = DistilBertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True)
    else:
        tokenizer = DistilBertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    tokenizer.model_max_length = 64

    torch.manual_seed(seed)
    config = DistilBertConfig(
        vocab_size=len(vocab),
        dim=32,
        n_layers=2,
        n_heads=2,
        hidden_dim=64,
        max_position_embeddings=64,
        pad_token_id=0,
    )
    model = DistilBertModel(config).eval()
    transformers.logging.disable_progress_bar()  # "Writing model shards" bars in test output
    try:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    finally:
        transformers.logging.enable_progress_bar()
    return str(folder)
