"""Word lists behind the hand-made features, as data.

Entries are tokens as the feature extractor sees them: lower case, every digit replaced by 0,
words and single punctuation marks split apart (`c++` is `c + +`, `O(n)` is `o ( n )`). An entry
with a space is a bigram (no entry is longer); an entry starting with `^` matches only the first
token or the first two tokens of the message. Entries are separated by `|`. Each group becomes
one feature: the log-scaled count of its hits.
"""

from __future__ import annotations

from typing import Final

LEXICON: Final[dict[str, str]] = {
    "math_words": (
        "equation|equations|integral|integrate|derivative|differentiate|polynomial|prime|"
        "primes|probability|matrix|matrices|eigenvalue|eigenvalues|theorem|lemma|solve|sum|"
        "product|remainder|divisible|divides|modulo|mod|gcd|lcm|factorial|integer|integers|"
        "real|roots|root|sqrt|log|logarithm|sin|cos|tan|triangle|circle|radius|area|perimeter|"
        "volume|angle|vector|vectors|limit|series|sequence|converge|converges|function|"
        "expected value|variance|permutations|combinations|choose|digits|fraction|percent|"
        "ratio|average|mean|median|calculate|compute|evaluate|simplify|x|y|n|real numbers|"
        "positive integers|ordered pairs|arithmetic|geometric|geometry|algebra|calculus|"
        "inequality|parabola|slope"
    ),
    "proof": (
        "prove|proof|show that|demonstrate that|rigorous|rigorously|lemma|and only|for all|"
        "for every|there exists|qed|contradiction|induction|derive|justify"
    ),
    "competition": (
        "olympiad|imo|aime|putnam|usamo|amc|competition|contest|find all|determine all|"
        "many ordered|smallest positive|largest positive"
    ),
    "word_problem": (
        "each|per|total|remaining|left|how many|how much|twice|half|times|costs|cost|bought|"
        "buys|sells|sold|spent|pays|paid|earns|week|weeks|day|days|hours|minutes|dollars|$|%|"
        "percent|more than|less than|fewer|altogether|every"
    ),
    "code_tokens": (
        "def|return|class|import|const|let|var|public|static|void|printf|println|include|async|"
        "await|lambda|struct|impl|fn|self|null|nullptr|elif|std|namespace|{|}|;|= >|- >|: :|"
        "= =|! =|( )|# include|< /|/ >|self .|console .|__init__|try|catch|except|throw|throws|"
        "int|str|string|bool|dict|select|where|join|foreach|for (|while (|if (|[ ]|` `"
    ),
    "code_words": (
        "code|function|functions|class|method|api|bug|bugs|compile|compiler|runtime|regex|sql|"
        "query|python|javascript|java|rust|c +|typescript|golang|go|bash|shell|script|"
        "algorithm|implement|implementation|refactor|unit test|unit tests|debug|program|"
        "programming|library|framework|database|endpoint|json|html|css|react|docker|kubernetes|"
        "git|linux|variable|array|list|loop|recursion|recursive|pandas|numpy|snippet|"
        "repository|dockerfile|server|http|frontend|backend|oop|c #"
    ),
    "error_trace": (
        "traceback|error|exception|stack trace|segfault|segmentation fault|undefined|panic|"
        "crash|crashes|fails|failing|warning|typeerror|valueerror|nullpointerexception|"
        "keyerror|syntaxerror"
    ),
    "complexity": (
        "o (|complexity|optimize|optimise|optimal|efficient|efficiently|scalable|scale|"
        "concurrent|concurrency|distributed|lock|free|thread|threads|latency|throughput|"
        "architecture|design a|system design|consensus|fault|tolerant|memory|cache|parallel|"
        "asymptotic|dynamic|programming|graph|tree|heap|trie|segment|amortized|np|hard|"
        "compiler|interpreter|parser|garbage|allocator|kernel|lockless|race condition|deadlock|"
        "transactions|sharding|replication"
    ),
    "logic_words": (
        "puzzle|riddle|knight|knights|knave|knaves|liar|liars|truth|truthful|lies|lie|"
        "always tells|deduce|deduction|logic|logical|syllogism|paradox|who is|must be|"
        "cannot be|which one|doors|door|guard|guards|boxes|labeled|labelled|weighings|scale|"
        "balls|coins|hats|prisoners|island|brothers|sisters|clue|clues|conclude|implies|valid|"
        "fallacy|therefore|assume|statement|statements|schedule|arrangement|seated|sits|"
        "next to"
    ),
    "conditionals": (
        "if|then|unless|only if|either|neither|nor|all|some|none|no one|nobody|everyone|"
        "exactly|at least|at most|not|both"
    ),
    "transform_verbs": (
        "translate|translation|summarize|summarise|summary|summarizing|rewrite|rephrase|"
        "paraphrase|convert|extract|reformat|format|proofread|grammar|spelling|tl|tldr|"
        "bullet points|bullet|into json|to json|csv|table|condense|shorten|simplify this|"
        "list all|classify|categorize|sort|alphabetize|capitalize|in french|in spanish|"
        "in german|into french|into spanish|into english|to english|markdown|yaml|transcribe|"
        "the following|this text|this paragraph|this email|passage|keywords|tone|formal|"
        "informal"
    ),
    "writing_verbs": (
        "write|draft|compose|essay|poem|story|letter|email|blog|article|speech|cover letter|"
        "slogan|tagline|haiku|limerick|lyrics|song|script|toast|bio|tweet|post|caption|"
        "description|pitch|outline|narrative|novel|chapter|dialogue|sonnet|creative|fiction|"
        "persuasive|proposal|announcement|invitation|thank you|eulogy"
    ),
    "chat_markers": (
        "^hi|^hello|^hey|^thanks|^thank|^good morning|^good night|^yo|are you|lol|haha|i feel|"
        "m feeling|am feeling|my day|s up|sup|bored|lonely|joke|chat|talk|favorite|favourite|"
        "you like|you think|me|my|i|sad|happy|excited|tired|nice|cool|:)|!"
    ),
    "question_start": (
        "^what|^who|^when|^where|^which|^how|^why|^is|^are|^does|^do|^can|^name|^define|^list"
    ),
    "simple_lookup": (
        "^what is|^who is|^who was|^who wrote|^who painted|^who invented|^when did|^when was|"
        "^where is|^what '|^how many|^what year|^define|capital of|meaning of|stand for|"
        "^what does|^which|largest|tallest|first|boiling point|population|currency|author of|"
        "spell"
    ),
    "reasoning_cues": (
        "by step|step|your reasoning|your work|think carefully|reason|reasoning|carefully|"
        "justify|analyze|analyse|analysis|compare|contrast|evaluate|trade|tradeoffs|offs|"
        "and cons|implications|critique|argue|why|explain|derive|in depth|detailed|thorough|"
        "comprehensive|nuanced|consider"
    ),
    "constraints": (
        "must|should|without|at most|at least|exactly|no more|only|don '|do not|ensure|"
        "make sure|avoid|limit|words|under|maximum|minimum|required|requirements|constraint|"
        "constraints|each|handle|support|edge cases|include|including|never|always"
    ),
    "hard_words": (
        "advanced|graduate|research|novel|rigorous|formal|formally|optimal|np|asymptotic|"
        "nontrivial|non|trivial|edge cases|production|robust|generalize|generalise|arbitrary|"
        "efficiently|tight|bound|bounds|closed form|closed -|correctness|invariant|invariants|"
        "verify|counterexample|complexity|theoretical"
    ),
    "easy_words": (
        "simple|quick|quickly|briefly|short|one word|one sentence|just|or no|basic|easy|simply|"
        "tiny|small|little|single|^what is|hello world"
    ),
}


def entries(group: str) -> tuple[str, ...]:
    """The entries of one lexicon group."""
    return tuple(LEXICON[group].split("|"))


# Looked up only in the last question sentence of a message: a plain factual question at the end
# of a long preamble ("... anyway, which currency does Switzerland use?").
TAIL_LOOKUP: Final = (
    "what is|what '|what was|who is|who was|who wrote|who painted|who invented|who discovered|"
    "who proved|when did|when was|where is|which is|which country|which continent|what language|"
    "capital of|currency|stand for|meaning of|what does|you say|say '|largest|smallest|"
    "tallest|longest|chemical symbol|do i|is it|are spiders|what color|what year|is a"
)
