"""Realistic posts for the evaluation set, written as people write on Japanese community
boards (labels by hand, per post: what a patrol team expects).
"""

from __future__ import annotations

# (text, class): every post is labeled by hand with what a patrol team expects.

NG = [

    ('JC2です、ホ別2でお願いします。会える人DMで', 'paid_dating'),

    ('ホ別苺で会える人いませんか？渋谷あたり', 'paid_dating'),

    ('パパ活募集してます😊 お手当は顔合わせで相談', 'paid_dating'),

    ('P活相手募集！条件はDMで💌', 'paid_dating'),

    ('大人2で会える方いたら連絡ください', 'paid_dating'),

    ('援交しよ？ 2万でいいよ', 'paid_dating'),

    ('高2です。1.5万でどうですか', 'paid_dating'),

    ('16歳だけど3万くれるなら会ってもいい', 'paid_dating'),

    ('割り切りで会える人募集、ホ別1.5', 'paid_dating'),

    ('サポ希望です、都内で', 'paid_dating'),

    ('円光できる子いない？', 'paid_dating'),

    ('セフレ募集中。LINEで話そ', 'paid_dating'),

    ('JKリフレで働いてるよ、来て', 'paid_dating'),

    ('ママ活しませんか？年上の方歓迎', 'paid_dating'),

    ('エロ自撮り送ってくれたら5000円あげる', 'paid_dating'),

    ('裸の写真送ってよ、誰にも見せないから', 'paid_dating'),

    ('冷たいのあります、手押しで即日いけます', 'drugs'),

    ('野菜売ります。都内手押し対応', 'drugs'),

    ('アイスあります 1g 2万 即日発送', 'drugs'),

    ('シャブ欲しい人いる？', 'drugs'),

    ('覚醒剤売ってる人知ってる', 'drugs'),

    ('キメセクしたい人募集', 'drugs'),

    ('リキッドあります、配達もします', 'drugs'),

    ('お前マジでしね', 'abuse'),

    ('まじ死ねよゴミ', 'abuse'),

    ('きもいから学校来んなよ、しね', 'abuse'),

    ('あいつガイジだろ', 'abuse'),

    ('タヒねばいいのに', 'abuse'),

    ('お前みたいな基地外は消えろ', 'abuse'),

    ('4ねよカス', 'abuse'),

    ('氏ねって言ってんだろ', 'abuse'),

    ('し ね よ お 前', 'abuse'),

    ('お前ほんとに死ねばいいのに', 'abuse'),

    ('明日学校爆破するわ', 'crime'),

    ('学校に爆弾仕掛けたから', 'crime'),

    ('あいつぶっ殺す', 'crime'),

    ('殺すぞマジで', 'crime'),

    ('明日刃物持って学校行く、全員殺す', 'crime'),

    ('お前の家に火をつけてやる', 'crime'),

    ('頃すぞお前', 'crime'),

    ('56すぞ', 'crime'),

    ('ころしたるからな', 'crime'),

    ('ホワイト案件です、日給10万、テレグラムで連絡', 'recruiting'),

    ('高額バイト、荷物受け取るだけ。身分証送って', 'recruiting'),

    ('口座買取します、即日即金', 'recruiting'),

    ('叩き案件あります', 'recruiting'),

    ('飛ばし携帯ほしい人', 'recruiting'),

    ('オフパコ募集、今夜', 'paid_dating'),

    ('神待ちしてます、泊めてくれる人', 'meeting'),

]


NG_EN = [

    ('shut up you stupid bitch', 'abuse'),

    ('go kill yourself loser', 'abuse'),

    ("you're a worthless piece of shit", 'abuse'),

    ('kys nobody likes you', 'abuse'),

    ('i will shoot you tomorrow', 'crime'),

    ("i'm going to bomb the school", 'crime'),

    ('send nudes or i tell everyone', 'sexual'),

    ('you dumbass', 'abuse'),

    ('fuck off', 'abuse'),

    ('wanna see my dick pic', 'sexual'),

    ('suck my dick', 'sexual'),

    ('f u c k you', 'abuse'),

    ('sh1t head go die', 'abuse'),

    ('son of a bitch', 'abuse'),

]


REVIEW = [

    ('もう死にたい。誰にも必要とされてない', 'self_harm'),

    ('しにたぃ…', 'self_harm'),

    ('消えたい。明日が来なければいいのに', 'self_harm'),

    ('またリスカしちゃった', 'self_harm'),

    ('ODしようかな、薬たくさんある', 'self_harm'),

    ('生きるのがつらい', 'self_harm'),

    ('タヒにたい', 'self_harm'),

    ('遺書書いた', 'self_harm'),

    ('いなくなりたい', 'self_harm'),

    ('もう生きたくない', 'self_harm'),

    ('LINE交換しよ！', 'contact'),

    ('ライン教えて〜', 'contact'),

    ('ID→mimi_0312 追加して', 'contact'),

    ('LINE hana0101 です', 'contact'),

    ('090-1234-5678に電話して', 'contact'),

    ('ぜろきゅーぜろ、いちにーさんよん、ごーろくななはち', 'contact'),

    ('インスタ @hana.chan_22 フォローして', 'contact'),

    ('lin.ee/abc123 から追加してね', 'contact'),

    ('メアドは hana @ example . com', 'contact'),

    ('カカオやってる？', 'contact'),

    ('どこ住み？会える？', 'meeting'),

    ('今から会える人いる？', 'meeting'),

    ('家に来てもいいよ', 'meeting'),

    ('家出したい、泊めてくれる人いない？', 'meeting'),

    ('中2だけど会える人いる？', 'meeting'),

    ('きもいんだけど', 'abuse'),

    ('うぜー', 'abuse'),

    ('ブスすぎ', 'abuse'),

    ('あいつハブろうぜ', 'bullying'),

    ('みんなで無視しよう', 'bullying'),

    ('仲間外れにしようよ', 'bullying'),

    ('晒そうぜこいつ', 'bullying'),

    ('大麻ってどこで買えるの', 'drugs'),

    ('手押しってなに？', 'drugs'),

    ('闇バイトの募集見た、やろうかな', 'recruiting'),

    ('即日即金の仕事ある？', 'recruiting'),

    ('簡単に稼げる方法教えます', 'spam'),

    ('高収入！在宅ワーク', 'spam'),

    ('パパ活ってどうなの？', 'paid_dating'),

    ('学校の爆破予告があったらしい', 'crime'),

]


REVIEW_EN = [

    ('i want to die', 'self_harm'),

    ('i might kill myself tonight', 'self_harm'),

    ('where do you live? are you alone?', 'meeting'),

    ('add me on snapchat', 'contact'),

    ('dm me', 'contact'),

    ('how old are you', 'meeting'),

    ('where can i get weed', 'drugs'),

    ('text me 090-2222-3333', 'contact'),

    ("that's bullshit", 'abuse'),

    ('you idiot', 'abuse'),

]


CLEAN = [

    'かわいいし、ねこも好き',

    '楽しーね！また行こ',

    'うれしーねー',

    '嬉しいね😊',

    'たのしかったし、ねむい',

    'それところ\nすごく好き',

    'ブース出してるから来てね',

    'デーブさんのライブ行った',

    'ゲームばっかりしてる',

    'SONY a7 IVで撮った',

    'p30 pro使ってる',

    'galaxy a55 良いよ',

    'i7のパソコン買った',

    '2×3=6',

    'パパ活のニュース見た',

    '援助交際の問題についてレポート書いた',

    'いのちの電話0120-783-556もあるよ',

    'チャイルドライン0120-99-7777に相談してみて',

    'つらい時は189に電話してね',

    'アイス食べたい',

    '冷たいの飲みたい',

    '野菜たくさん食べよう',

    '苺狩り行った🍓',

    'チョコ作った',

    '16歳になりました！',

    '中2です、よろしく',

    '部活のみんなで写真撮った',

    'JKブランドってもう古い？',

    '高1の数学むずい',

    'ラインマーカーで線引いた',

    'LINE today was fun',

    'ID番号は学生証に',

    '学校の避難訓練だった',

    '爆破シーンすごい映画',

    '死ぬほど笑った',

    '必死に勉強した',

    '死神のアニメ面白い',

    '殺虫剤買った',

    '推理小説の殺人事件おもしろい',

    'ころころ転がる',

    'しねま行きたい',

    'むかしね、ここに来た',

    'わたしね、犬飼ってる',

    '行ったしね、また今度',

    'すこしね、疲れた',

    '好きだしね、あのバンド',

    'ホテル代別々で払った',

    '3-2で勝った',

    '2024/05/01の大会',

    '¥12,000のバッグ',

    '090の次は080？',

    '郵便番号123-4567',

    '電話番号変わった',

    '0012345678って国際電話？',

    'カスタードプリン最高',

    '食べかすこぼした',

    '消しかす集めてる',

    '4ねんせいになった',

    'ブースカ懐かしい',

    'キモかわいい',

    'うざったい天気',

    'ハブ酒飲んだ',

    'シカの写真',

    '無視しないで〜',

    '晒し首の歴史',

    '闇鍋した',

    '裏垢って何？',

    'テレグラムって安全？',

    '高額当選したい',

    '日給いくら？',

    '即日発送ありがとう',

    '荷物受け取った',

    '身分証忘れた',

    '口座開設した',

    '携帯買い替えた',

    'a, b, c の中から選んで',

    'options a, s, s and d',

    'wow!!! $$$',

    "I'm at home. Come soon",

    'very lovely day',

    'It is fine',

    'the class assessment',

    'Scunthorpe United',

    'cocktail party',

    'magna cum laude',

    'pussy cat',

    'suicide prevention hotline',

    'the killer whale show',

    'this song is sick',

    'I could die laughing',

    'Moby Dick is long',

    'hookups for the pipe',

    'shoot the photo',

    "I'm dying lol",

]

# Board posts of ordinary life, assembled from fragments people write (openers, bodies,
# closers with emoji, laughter and stretched endings).

OPENERS = [

    '',

    '今日',

    '昨日',

    'さっき',

    '朝から',

    '放課後',

    '週末',

    '久しぶりに',

    'なんか',

    'てか',

    'ねえ聞いて、',

    'まじで',

    'やっと',

    'いま',

    '明日',

]


BODIES = [

    '部活の練習きつかった',

    'テスト終わった',

    '推しのライブ当たった',

    'ポケモンの色違い出た',

    '模試の結果返ってきた',

    '友達とカラオケ行った',

    '新しいスニーカー買った',

    '猫が布団から出てこない',

    'バイト先の店長が優しい',

    'スプラのランク上がった',

    '雨で体育館練習',

    'ラーメン食べに行った',

    '家族で焼肉',

    '宿題が終わらない',

    '自転車パンクした',

    'コンビニの新作スイーツ美味しい',

    '先輩に褒められた',

    '文化祭の準備してる',

    '電車で寝過ごした',

    '犬の散歩してきた',

    '図書館で勉強',

    '新しいアニメ始まった',

    '髪切った',

    '寝坊した',

    '数学の小テストやばい',

    '体育祭のリレー選ばれた',

    'ゲームのイベント走ってる',

    'お弁当作った',

    '推しの誕生日',

    '動画編集してた',

    '塾の帰りに雪降ってた',

    '弟とケンカした',

]


CLOSERS = [

    '',

    '！',

    '〜',

    'ｗｗｗ',

    '笑',

    '(笑)',

    '😂',

    '🥺',

    '✨',

    '。',

    '…',

    '！！',

    'ー',

    '(^o^)',

    'ね',

    'よ',

    'わ',

    'かも',

    'じゃん',

    'すぎる',

    'しかない',

    'しね〜',

    'し、ねむい',

]


EN_OPENERS = [

    '',

    'today ',

    'finally ',

    'lol ',

    'omg ',

    'just ',

]


EN_BODIES = [

    'finished my homework',

    'got a new phone',

    'beat the boss',

    'watched the new movie',

    'went to the beach',

    'my cat is sleeping on my keyboard',

    'baked cookies',

    'passed the test',

    'lost my keys again',

    'started learning guitar',

]


EN_CLOSERS = [

    '',

    '!',

    ' :)',

    ' lol',

    ' 😂',

    '...',

]
