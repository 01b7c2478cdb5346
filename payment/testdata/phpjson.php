<?php
// Regenerates phpjson.golden from phpjson-cases.txt with PHP's own
// json_decode/json_encode, the encoding Cryptomus signs its callbacks in:
//   php phpjson.php > phpjson.golden
// Each output line is a JSON array: [case, default encoding, JSON_UNESCAPED_UNICODE].
foreach (file(__DIR__ . '/phpjson-cases.txt', FILE_IGNORE_NEW_LINES) as $case) {
    $v = json_decode($case, true);
    echo json_encode([$case, json_encode($v), json_encode($v, JSON_UNESCAPED_UNICODE)], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
}
