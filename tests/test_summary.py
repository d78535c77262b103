"""The summary design (issue 16): a published figure's cell means, SD or SEM and n.

Three tiers, as for the other designs:

- the frequentist twin computed from the summaries equals afex / emmeans on the RAW rows of
  two real data sets (carData::Moore, unbalanced 2 x 3; carData::Salaries, unbalanced
  3 x 2 x 2), which the tests reduce to one row per cell themselves; the R values are printed
  by ``tests/fixtures/summary_golden.R`` and pasted below;
- the likelihood of the summaries equals the raw-data likelihood up to a constant, and the
  posterior fitted to the summaries equals the raw-data factorial fit of the same simulated
  animals (posterior medians within 0.1 posterior SD);
- the reader's bad input (exit 2 naming the row and the fix), the shipped summary table, the
  CLI and the report folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_igf1.cli import main
from bayes_igf1.designs import factorial as fa
from bayes_igf1.designs import summary as su
from bayes_igf1.designs.base import get_design
from bayes_igf1.errors import DataError, DesignError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = ROOT / "data"
RTOL = 1e-6  # 6 significant digits

# ---------------------------------------------------------------------------------------------
# Golden values: Rscript tests/fixtures/summary_golden.R (R 4.2.2, afex 1.2.1, car 3.1.1,
# emmeans 1.8.4.1), on the raw rows of moore.csv and salaries.csv.
# fmt: off
# R version 4.2.2 Patched (2022-11-10 r83330)
# afex 1.2.1
# car 3.1.1
# emmeans 1.8.4.1

# ---- MOORE: conformity ~ partner_status * fcategory (45 rows)
MOORE_TYPE3 = [  # afex aov_ez type 3: effect, df_num, df_den, F, p, pes; car::Anova SS, SS_error
    ("partner_status", 1, 39, 11.4249745245261, 0.00165711268009882, 0.2265737292335, 239.562369793479, 817.763961038961),
    ("fcategory", 2, 39, 0.85888446202485, 0.431491610226426, 0.0421872064565677, 36.0187056277056, 817.763961038961),
    ("partner_status:fcategory", 2, 39, 4.18462326063614, 0.0225724417916788, 0.176681014284529, 175.488927849928, 817.763961038961),
]
MOORE_TYPE2 = [  # afex aov_ez type 2: effect, df_num, df_den, F, p, pes; car::Anova SS, SS_error
    ("partner_status", 1, 39, 10.1206921894899, 0.00287422991075649, 0.206037247000672, 212.213777777778, 817.763961038961),
    ("fcategory", 2, 39, 0.276958464357662, 0.759564473545402, 0.0140040979939762, 11.6147000439174, 817.763961038961),
    ("partner_status:fcategory", 2, 39, 4.18462326063615, 0.0225724417916788, 0.176681014284529, 175.488927849928, 817.763961038961),
]
MOORE_SIMPLE = [  # (effect, level, within): estimate, se, df, t, p, p_sidak, ci_low, ci_high, ci_low_sidak, ci_high_sidak, hedges_g, g_ci_low, g_ci_high
    ("partner_status", "low", "fcategory=high", 0.767857142857134, 2.36991787229461, 39, 0.324001583275827, 0.7476681097451, 0.999934866414284, -4.02575421866602, 5.56146850438029, -5.94131794711263, 7.4770322328269, 0.120098128262636, -0.999001879863622, 1.23919813638889),
    ("partner_status", "low", "fcategory=low", -8.49999999999999, 2.50808532709555, 39, -3.38903940315431, 0.00161596300242999, 0.0112570504074503, -13.5730814177936, -3.42691858220639, -15.6003235161798, -1.39967648382023, -2.40286666640417, -3.91891441897025, -0.886818913838099),
    ("partner_status", "low", "fcategory=medium", -7.02272727272727, 2.67362794208884, 39, -2.6266658730536, 0.0122598910022718, 0.0827265438993583, -12.4306502347469, -1.61480431070761, -14.5916975727578, 0.546243027303288, -1.67291342798597, -3.09645879214184, -0.249368063830102),
    ("fcategory", "low", "partner_status=high", 5.54285714285713, 2.68125599736755, 39, 2.06726144325611, 0.045391517606875, 0.277601187341045, 0.119504982687692, 10.9662093030266, -2.04770798079964, 13.1334222665139, 1.22638167963294, -0.192514759401578, 2.64527811866745),
    ("fcategory", "medium", "partner_status=high", 2.41558441558441, 2.21397427359706, 39, 1.09106254954797, 0.281940387616581, 0.901570902706828, -2.06260124481534, 6.89377007598416, -3.85211845289909, 8.68328728406791, 0.583121780610887, -0.462340934572694, 1.62858449579447),
    ("fcategory", "low", "partner_status=low", -3.72499999999999, 2.17206560812375, 39, -1.71495740555355, 0.0942899374798425, 0.500052559031274, -8.11841738327603, 0.668417383276044, -9.87406054009971, 2.42406054009973, -0.675909409319679, -1.70943743850025, 0.357618619860889),
    ("fcategory", "medium", "partner_status=low", -5.37499999999999, 2.80412464237773, 39, -1.91681921651041, 0.0626088506970018, 0.364016364946395, -11.0468774527887, 0.296877452788761, -13.3134030222091, 2.56340302220914, -0.76140124460874, -2.16911160563514, 0.64630911641766),
]
MOORE_INTERACTION = [  # (effect, within, cell): estimate, se, df, t, p, p_sidak, ci_low, ci_high, ci_low_sidak, ci_high_sidak
    ("partner_status:fcategory", "", "low|low", -9.26785714285713, 3.45065250777493, 39, -2.68582742596509, 0.0105728355020348, 0.0210338861535165, -16.2474606385356, -2.28825364717869, -17.293388683591, -1.2423256021233),
    ("partner_status:fcategory", "", "low|medium", -7.7905844155844, 3.57278562107211, 39, -2.18053508994101, 0.0353147171374111, 0.0693823050283268, -15.0172254505649, -0.563943380603951, -16.1001732906125, 0.519004459443727),
]
MOORE_TUKEY = [  # pairs(emmeans(fit, ~ A * B ...)), Tukey: contrast: estimate, se, df, t, p_tukey, ci_low, ci_high
    ("high high - low high", -0.767857142857134, 2.36991787229461, 39, -0.324001583275827, 0.999486048338853, -7.8681024801497, 6.33238819443543),
    ("high high - high low", -5.54285714285713, 2.68125599736755, 39, -2.06726144325611, 0.325043696768131, -13.5758677445975, 2.49015345888325),
    ("high high - low low", 2.95714285714286, 2.25661318220221, 39, 1.31043409675424, 0.777554838055594, -3.80364299637314, 9.71792871065886),
    ("high high - high medium", -2.41558441558441, 2.21397427359706, 39, -1.09106254954797, 0.881978337303183, -9.04862461362846, 4.21745578245964),
    ("high high - low medium", 4.60714285714286, 2.87011307409391, 39, 1.60521301363617, 0.60014980288122, -3.99168126671031, 13.205966980996),
    ("low high - high low", -4.775, 2.61049797458735, 39, -1.82915292273107, 0.459703619303263, -12.5960204196356, 3.04602041963561),
    ("low high - low low", 3.72499999999999, 2.17206560812375, 39, 1.71495740555355, 0.530568541702902, -2.7824823421801, 10.2324823421801),
    ("low high - high medium", -1.64772727272728, 2.12773307443741, 39, -0.774405066369968, 0.97025265258961, -8.02238987913649, 4.72693533368194),
    ("low high - low medium", 5.37499999999999, 2.80412464237773, 39, 1.91681921651041, 0.407607437623149, -3.02612357900079, 13.7761235790008),
    ("high low - low low", 8.49999999999999, 2.50808532709555, 39, 3.38903940315431, 0.0186970884271849, 0.985806635991167, 16.0141933640088),
    ("high low - high medium", 3.12727272727273, 2.46979169932463, 39, 1.26620910100551, 0.801112211274067, -4.27219339019011, 10.5267388447356),
    ("high low - low medium", 10.15, 3.07176464137277, 39, 3.30428961362872, 0.0232885352391402, 0.947030214785471, 19.3529697852145),
    ("low low - high medium", -5.37272727272727, 2.00075994780038, 39, -2.6853432760057, 0.101315832467254, -11.3669799244687, 0.621525379014156),
    ("low low - low medium", 1.65, 2.70904177573129, 39, 0.60907144909369, 0.989743715221917, -6.46625645830638, 9.76625645830638),
    ("high medium - low medium", 7.02272727272727, 2.67362794208884, 39, 2.6266658730536, 0.114833289955139, -0.987429767479012, 15.0328843129335),
]

# ---- SALARIES: salary ~ rank * discipline * sex (397 rows)
SALARIES_TYPE3 = [  # afex aov_ez type 3: effect, df_num, df_den, F, p, pes; car::Anova SS, SS_error
    ("rank", 2, 385, 53.3296296890359, 3.59606537568653e-21, 0.216937355177631, 55309515724.1573, 199646647445.017),
    ("discipline", 1, 385, 16.5022793255811, 5.89059114824091e-05, 0.0411013341027617, 8557466863.77527, 199646647445.017),
    ("sex", 1, 385, 1.42522195998834, 0.233280867111825, 0.00368822188354959, 739066977.082306, 199646647445.017),
    ("rank:discipline", 2, 385, 0.523345397995605, 0.592955881776136, 0.00271130622524709, 542774826.83429, 199646647445.017),
    ("rank:sex", 2, 385, 0.2231025490043, 0.800136161636364, 0.00115763261411574, 231385329.585175, 199646647445.017),
    ("discipline:sex", 1, 385, 0.713296140586494, 0.398876243263594, 0.0018492910348792, 369888787.281982, 199646647445.017),
    ("rank:discipline:sex", 2, 385, 0.127653794175702, 0.880195280096747, 0.000662697134400552, 132392997.614624, 199646647445.017),
]
SALARIES_TYPE2 = [  # afex aov_ez type 2: effect, df_num, df_den, F, p, pes; car::Anova SS, SS_error
    ("rank", 2, 385, 140.044590411717, 1.98067368386155e-46, 0.421130261774309, 145243807628.623, 199646647445.017),
    ("discipline", 1, 385, 35.6268944899143, 5.42769863673349e-09, 0.0846995162615987, 18474779334.5162, 199646647445.017),
    ("sex", 1, 385, 1.46319170025407, 0.227165196371169, 0.00378610882401691, 758756668.896362, 199646647445.017),
    ("rank:discipline", 2, 385, 0.457833494700914, 0.632996800759521, 0.00237271266166806, 474830765.221161, 199646647445.017),
    ("rank:sex", 2, 385, 0.210672465356707, 0.810132658200944, 0.00109320601013719, 218493773.597107, 199646647445.017),
    ("discipline:sex", 1, 385, 0.890874147728928, 0.345832459395579, 0.00230861678109516, 461974121.790955, 199646647445.017),
    ("rank:discipline:sex", 2, 385, 0.127653794175702, 0.880195280096747, 0.000662697134400552, 132392997.614624, 199646647445.017),
]
SALARIES_SIMPLE = [  # (effect, level, within): estimate, se, df, t, p, p_sidak, ci_low, ci_high, ci_low_sidak, ci_high_sidak, hedges_g, g_ci_low, g_ci_high
    ("rank", "AssocProf", "discipline=A, sex=Female", -804.833333333457, 14699.2448875842, 385, -0.0547533794755173, 0.956363343693023, 1, -29705.6774511581, 28096.0107844912, -45430.0809414306, 43820.4142747637, -0.124620403612833, -1.61452605078022, 1.36528524355455),
    ("rank", "Prof", "discipline=A, sex=Female", 36698.5416666666, 12298.2706176771, 385, 2.98404083041704, 0.00302606971396787, 0.0588127327341069, 12518.3606601903, 60878.7226731429, -637.619181213624, 74034.7025145469, 2.84971303550671, 1.18795213381717, 4.51147393719626),
    ("rank", "AssocProf", "discipline=B, sex=Female", 15245.8666666668, 13789.1139756458, 385, 1.10564512655374, 0.269570575636656, 0.998131189795329, -11865.5282778221, 42357.2616111557, -26616.3262667414, 57108.059600075, 1.12744558765318, -0.346338023519958, 2.60122919882632),
    ("rank", "Prof", "discipline=B, sex=Female", 47646.4000000002, 12472.722885999, 385, 3.82004799076269, 0.000155494899480602, 0.00310530832667755, 23123.2205707253, 72169.5794292752, 9780.62176502316, 85512.1782349773, 2.88489002364691, 1.24326615038577, 4.52651389690805),
    ("rank", "AssocProf", "discipline=A, sex=Male", 10779.2525252526, 7237.4078779323, 385, 1.48938027358106, 0.137205963116301, 0.947743213787303, -3450.53944684467, 25009.0444973498, -11192.7005283577, 32751.2055788628, 1.24842719104411, 0.545719671839799, 1.95113471024842),
    ("rank", "Prof", "discipline=A, sex=Male", 46349.6490514906, 5746.73795415286, 385, 8.06538412248225, 9.35279746676791e-15, 1.86517468137026e-13, 35050.7300206741, 57648.5680823072, 28903.2015567943, 63796.0965461869, 1.7231420961465, 1.18451163005399, 2.26177256223902),
    ("rank", "AssocProf", "discipline=B, sex=Male", 16974.4523026317, 5463.65009906897, 385, 3.10679710355614, 0.00203152358996137, 0.039855801146039, 6232.12499023323, 27716.7796150301, 387.427569075611, 33561.4770361878, 2.0358042815128, 1.44665292111004, 2.62495564191556),
    ("rank", "Prof", "discipline=B, sex=Male", 48871.2810526318, 4218.39888467887, 385, 11.5852678678944, 7.86739384009886e-27, 0, 40577.2979585828, 57165.2641466807, 36064.6983894965, 61677.863715767, 2.06966510460869, 1.63946775950163, 2.49986244971574),
    ("discipline", "B", "rank=AsstProf, sex=Female", 11256.4666666664, 13789.1139756458, 385, 0.816329945966616, 0.414816247171013, 0.999977825941168, -15854.9282778225, 38367.8616111553, -30605.7262667418, 53118.6596000746, 1.33762095418708, -0.176496271945476, 2.85173818031964),
    ("discipline", "B", "rank=AssocProf, sex=Female", 27307.1666666667, 14699.2448875842, 385, 1.85772581350297, 0.0639712178683739, 0.733446700362599, -1593.67745115783, 56208.0107844911, -17318.0809414303, 71932.4142747636, 2.08908234767798, 0.251673187085136, 3.92649150827082),
    ("discipline", "B", "rank=Prof, sex=Female", 22204.325, 10801.6948736387, 385, 2.05563342232424, 0.040491783410319, 0.562504125641705, 966.628632683987, 43442.021367316, -10588.4008855579, 54997.0508855579, 1.28214676323685, 0.179258217244099, 2.3850353092296),
    ("discipline", "B", "rank=AsstProf, sex=Male", 10377.4678362572, 6515.78294762224, 385, 1.592666287333, 0.11205572526541, 0.907164468759828, -2433.50502084981, 23188.4406933642, -9403.71341638377, 30158.6490888982, 1.63375919740361, 0.981932233574094, 2.28558616123313),
    ("discipline", "B", "rank=AssocProf, sex=Male", 16572.6676136363, 6306.83104071197, 385, 2.62773293063603, 0.00893926297906706, 0.16438655419764, 4172.52446485242, 28972.8107624202, -2574.15924492749, 35719.4944722001, 1.62910060181786, 0.990500174920712, 2.26770102871501),
    ("discipline", "B", "rank=Prof, sex=Male", 12899.0998373983, 2892.13741779952, 385, 4.46005772686023, 1.07674241228396e-05, 0.000215326455770271, 7212.73884957969, 18585.460825217, 4118.89722338793, 21679.3024514087, 0.467295384506798, 0.213750062073668, 0.720840706939929),
    ("sex", "Male", "rank=AsstProf, discipline=A", 1336.27777777769, 10734.8106709631, 385, 0.124480796050947, 0.900999571503546, 1, -19769.914561253, 22442.4701168084, -31253.3952211666, 33925.950776722, 0.269064576268989, -0.7118806007392, 1.25000975327718),
    ("sex", "Male", "rank=AssocProf, discipline=A", 12920.3636363637, 12377.871905756, 385, 1.04382754440652, 0.29722015023476, 0.999136254064803, -11416.3250299237, 37257.0523026511, -24657.4577333739, 50498.1850061013, 1.22894789571589, 0.0532518800243957, 2.40464391140738),
    ("sex", "Male", "rank=Prof, discipline=A", 10987.3851626017, 8308.80840782214, 385, 1.32237796604599, 0.186827350194551, 0.984017111725804, -5348.93540595802, 27323.7057311614, -14237.218914883, 36211.9892400863, 0.39091910518024, -0.332564716092816, 1.1144029264533),
    ("sex", "Male", "rank=AsstProf, discipline=B", 457.27894736847, 10833.232736005, 385, 0.0422107563376416, 0.96635256988753, 1, -20842.4254245104, 21756.9833192473, -32431.1923270099, 33345.7502217468, 0.0620533647961482, -0.898791009984699, 1.022897739577),
    ("sex", "Male", "rank=AssocProf, discipline=B", 2185.86458333337, 10130.7554074687, 385, 0.215765211518372, 0.829285030156394, 1, -17732.6676314993, 22104.3967981661, -28569.964846872, 32941.6940135387, 0.206833928798819, -0.696703151213146, 1.11037100881078),
    ("sex", "Male", "rank=Prof, discipline=B", 1682.16000000001, 7483.63373159939, 385, 0.224778504711842, 0.822270840063277, 0.999999999999999, -13031.7476575649, 16396.067657565, -21037.3069409862, 24401.6269409862, 0.064324863166096, -0.585745654490286, 0.714395380822478),
]
SALARIES_INTERACTION = [  # (effect, within, cell): estimate, se, df, t, p, p_sidak, ci_low, ci_high, ci_low_sidak, ci_high_sidak
    ("rank:discipline", "sex=Female", "AssocProf|B", 16050.7000000002, 20154.5891671976, 385, 0.796379418446465, 0.426302325352052, 0.670870978103538, -23576.1409863672, 55677.5409863677, -29200.9005427875, 61302.300542788),
    ("rank:discipline", "sex=Female", "Prof|B", 10947.8583333336, 17516.171852792, 385, 0.625014325352635, 0.532331910361862, 0.781286557934215, -23491.4721309244, 45387.1887975916, -28379.8999824454, 50275.6166491126),
    ("rank:discipline", "sex=Male", "AssocProf|B", 6195.19977737913, 9068.16107028392, 385, 0.68318148843657, 0.494903078407414, 0.744877099797693, -11634.1180911167, 24024.517645875, -14164.8680466778, 26555.2676014361),
    ("rank:discipline", "sex=Male", "Prof|B", 2521.63200114115, 7128.8067910388, 385, 0.353724273227736, 0.723739153035213, 0.923679944434299, -11494.6345070742, 16537.8985093565, -13484.1478527012, 18527.4118549835),
    ("rank:sex", "discipline=A", "AssocProf|Male", 11584.085858586, 16384.3789341167, 385, 0.707020138216215, 0.47998166801017, 0.729580934394515, -20629.975827143, 43798.1475443151, -25202.5419668526, 48370.7136840246),
    ("rank:sex", "discipline=A", "Prof|Male", 9651.10738482399, 13574.6991605457, 385, 0.710962892855448, 0.477537717821218, 0.727033163700539, -17038.7169827305, 36340.9317523785, -20827.1553475809, 40129.3701172289),
    ("rank:sex", "discipline=B", "AssocProf|Male", 1728.5856359649, 14832.0981873235, 385, 0.116543567480039, 0.907282527407934, 0.99140347027614, -27433.4673082769, 30890.6385802067, -31572.8216423604, 35029.9929142902),
    ("rank:sex", "discipline=B", "Prof|Male", 1224.88105263154, 13166.7651813641, 385, 0.0930282446568734, 0.925929512446847, 0.994513562873638, -24662.886036957, 27112.6481422201, -28337.4778466256, 30787.2399518887),
    ("discipline:sex", "rank=AsstProf", "B|Male", -878.99883040922, 15251.0685413801, 385, -0.0576352291660265, 0.954069088402344, 0.954069088402344, -30864.8081638521, 29106.8105030336, -30864.8081638521, 29106.8105030336),
    ("discipline:sex", "rank=AssocProf", "B|Male", -10734.4990530303, 15995.1216951062, 385, -0.671110808510736, 0.502552371341864, 0.502552371341864, -42183.224636639, 20714.2265305783, -42183.224636639, 20714.2265305783),
    ("discipline:sex", "rank=Prof", "B|Male", -9305.22516260167, 11182.1764870095, 385, -0.832147943060253, 0.405841298147224, 0.405841298147224, -31291.0034811897, 12680.5531559863, -31291.0034811897, 12680.5531559863),
    ("rank:discipline:sex", "", "AssocProf|B|Male", -9855.50022262112, 22100.6563181985, 385, -0.445936993034262, 0.655893435287683, 0.881590672121888, -53308.5910472645, 33597.5906020222, -59476.4606474679, 39765.4602022257),
    ("rank:discipline:sex", "", "Prof|B|Male", -8426.22633219245, 18911.2707833319, 385, -0.445566373023394, 0.656160945292966, 0.881774704458174, -45608.5233249239, 28756.070660539, -50886.2965496801, 34033.8438852952),
]
SALARIES_TUKEY = [  # pairs(emmeans(fit, ~ A * B ...)), Tukey: contrast: estimate, se, df, t, p_tukey, ci_low, ci_high
    ("AsstProf A Female - AssocProf A Female", 804.833333333457, 14699.2448875842, 385, 0.0547533794755173, 1, -47531.3299800891, 49140.996646756),
    ("AsstProf A Female - Prof A Female", -36698.5416666666, 12298.2706176771, 385, -2.98404083041704, 0.117284961395969, -77139.4773470301, 3742.3940136969),
    ("AsstProf A Female - AsstProf B Female", -11256.4666666664, 13789.1139756458, 385, -0.816329945966616, 0.999643045584858, -56599.8071016015, 34086.8737682687),
    ("AsstProf A Female - AssocProf B Female", -26502.3333333332, 13147.4043146218, 385, -2.01578446202181, 0.682453031945297, -69735.5121094708, 16730.8454428044),
    ("AsstProf A Female - Prof B Female", -58902.8666666666, 11759.3959100674, 385, -5.00900446903392, 5.31590937017379e-05, -97571.7973174046, -20233.9360159287),
    ("AsstProf A Female - AsstProf A Male", -1336.27777777769, 10734.8106709631, 385, -0.124480796050947, 0.999999999999395, -36636.0204311312, 33963.4648755758),
    ("AsstProf A Female - AssocProf A Male", -12115.5303030302, 10488.0004224957, 385, -1.15518018830775, 0.99179143356633, -46603.6761316089, 22372.6155255484),
    ("AsstProf A Female - Prof A Male", -47685.9268292683, 9520.66579522742, 385, -5.00867563833326, 5.3243435634065e-05, -78993.1443258168, -16378.7093327198),
    ("AsstProf A Female - AsstProf B Male", -11713.7456140349, 10003.6746993911, 385, -1.17094427458221, 0.990813890187083, -44609.2622002333, 21181.7709721636),
    ("AsstProf A Female - AssocProf B Male", -28688.1979166666, 10130.7554074687, 385, -2.83179257249828, 0.170956724712403, -62001.5994967271, 4625.20366339392),
    ("AsstProf A Female - Prof B Male", -60585.0266666666, 9517.12256257948, 385, -6.36589749352203, 3.63367127498293e-08, -91880.5927979078, -29289.4605354255),
    ("AssocProf A Female - Prof A Female", -37503.3750000001, 13944.9281188055, 385, -2.68939177602677, 0.235538590927618, -83359.0858272859, 8352.33582728574),
    ("AssocProf A Female - AsstProf B Female", -12061.2999999999, 15275.9033869158, 385, -0.789563778619516, 0.999741206615242, -62293.7144210766, 38171.1144210769),
    ("AssocProf A Female - AssocProf B Female", -27307.1666666667, 14699.2448875842, 385, -1.85772581350297, 0.784415317709494, -75643.329980089, 21028.9966467557),
    ("AssocProf A Female - Prof B Female", -59707.7000000001, 13472.0804712095, 385, -4.43195838442314, 0.000739495393752176, -104008.525437501, -15406.8745624988),
    ("AssocProf A Female - AsstProf A Male", -2141.11111111115, 12587.6812874516, 385, -0.170095751728762, 0.999999999977287, -43533.7284258614, 39251.5062036391),
    ("AssocProf A Female - AssocProf A Male", -12920.3636363637, 12377.871905756, 385, -1.04382754440652, 0.996554756397428, -53623.0556783611, 27782.3284056336),
    ("AssocProf A Female - Prof A Male", -48490.7601626017, 11569.6429174563, 385, -4.19120628947319, 0.00202050545195476, -86535.717833081, -10445.8024921225),
    ("AssocProf A Female - AsstProf B Male", -12518.5789473683, 11970.2576223016, 385, -1.04580697779178, 0.996496968058345, -51880.8952949262, 26843.7374001896),
    ("AssocProf A Female - AssocProf B Male", -29493.03125, 12076.6620048335, 385, -2.44215092201767, 0.380338630777614, -69205.2417350227, 10219.1792350227),
    ("AssocProf A Female - Prof B Male", -61389.8600000001, 11566.7273644793, 385, -5.3074528399904, 1.21390091393225e-05, -99425.2303314068, -23354.4896685934),
    ("Prof A Female - AsstProf B Female", 25442.0750000002, 12982.0215762736, 385, 1.95979299915039, 0.720279089306848, -17247.2685579914, 68131.4185579918),
    ("Prof A Female - AssocProf B Female", 10196.2083333334, 12298.2706176771, 385, 0.829076595426169, 0.999585916976219, -30244.7273470301, 50637.1440136969),
    ("Prof A Female - Prof B Female", -22204.325, 10801.6948736387, 385, -2.05563342232424, 0.654673102724456, -57724.0058725162, 13315.3558725162),
    ("Prof A Female - AsstProf A Male", 35362.2638888889, 9676.22757663891, 385, 3.6545506612787, 0.015254585530432, 3543.50585205154, 67181.0219257263),
    ("Prof A Female - AssocProf A Male", 24583.0113636364, 9401.66861975848, 385, 2.61474982344867, 0.275079096439633, -6332.90256927395, 55498.9252965467),
    ("Prof A Female - Prof A Male", -10987.3851626017, 8308.80840782214, 385, -1.32237796604599, 0.975844825103642, -38309.5995492506, 16334.8292240472),
    ("Prof A Female - AsstProf B Male", 24984.7960526317, 8858.14469653324, 385, 2.82054503607396, 0.175539616328232, -4143.82463367391, 54113.4167389374),
    ("Prof A Female - AssocProf B Male", 8010.34375000004, 9001.41239469888, 385, 0.889898540224365, 0.999191029292287, -21589.3903104301, 37610.0778104302),
    ("Prof A Female - Prof B Male", -23886.485, 8304.74815058484, 385, -2.87624435646707, 0.153696107927084, -51195.3478670017, 3422.37786700163),
    ("AsstProf B Female - AssocProf B Female", -15245.8666666668, 13789.1139756458, 385, -1.10564512655374, 0.994328767531734, -60589.2071016019, 30097.4737682684),
    ("AsstProf B Female - Prof B Female", -47646.4000000002, 12472.722885999, 385, -3.82004799076269, 0.00846058711778053, -88660.994626554, -6631.80537344645),
    ("AsstProf B Female - AsstProf A Male", 9920.18888888872, 11511.801951156, 385, 0.861740753617863, 0.999402101674311, -27934.5678280939, 47774.9456058713),
    ("AsstProf B Female - AssocProf A Male", -859.063636363838, 11282.0023437102, 385, -0.0761446071532484, 1, -37958.1603558562, 36240.0330831285),
    ("AsstProf B Female - Prof A Male", -36429.4601626019, 10388.8642885364, 385, -3.50658735650249, 0.0251431039851597, -70591.6123501491, -2267.30797505471),
    ("AsstProf B Female - AsstProf B Male", -457.27894736847, 10833.232736005, 385, -0.0422107563376416, 1, -36080.6671380193, 35166.1092432824),
    ("AsstProf B Female - AssocProf B Male", -17431.7312500002, 10950.6908068473, 385, -1.5918385020149, 0.911316173353803, -53441.3618999156, 18577.8993999152),
    ("AsstProf B Female - Prof B Male", -49328.5600000002, 10385.6172610189, 385, -4.74969939294305, 0.000180168883748721, -83480.0348463936, -15177.0851536069),
    ("AssocProf B Female - Prof B Female", -32400.5333333334, 11759.3959100673, 385, -2.75528892649962, 0.203874840509371, -71069.4639840713, 6268.39731740447),
    ("AssocProf B Female - AsstProf A Male", 25166.0555555555, 10734.8106709631, 385, 2.34434088564113, 0.447000896790143, -10133.6870977979, 60465.7982089089),
    ("AssocProf B Female - AssocProf A Male", 14386.803030303, 10488.0004224956, 385, 1.37173936410651, 0.968203051428405, -20101.3427982757, 48874.9488588816),
    ("AssocProf B Female - Prof A Male", -21183.5934959351, 9520.66579522738, 385, -2.22501177454987, 0.532474169172303, -52490.8109924835, 10123.6240006133),
    ("AssocProf B Female - AsstProf B Male", 14788.5877192983, 10003.6746993911, 385, 1.47831553541006, 0.945720417698408, -18106.9288669001, 47684.1043054967),
    ("AssocProf B Female - AssocProf B Male", -2185.86458333337, 10130.7554074687, 385, -0.215765211518372, 0.999999999694904, -35499.2661633939, 31127.5369967271),
    ("AssocProf B Female - Prof B Male", -34082.6933333334, 9517.12256257946, 385, -3.58119726936624, 0.0196074130799484, -65378.2594645745, -2787.12720209237),
    ("Prof B Female - AsstProf A Male", 57566.5888888889, 8981.38698080631, 385, 6.40954331573862, 2.80795563467606e-08, 28032.7052638881, 87100.4725138897),
    ("Prof B Female - AssocProf A Male", 46787.3363636364, 8684.88945351873, 385, 5.38721150269566, 8.07795626311947e-06, 18228.4383933819, 75346.2343338908),
    ("Prof B Female - Prof A Male", 11216.9398373983, 7488.13923094287, 385, 1.49796090743707, 0.940581327560805, -13406.6325670741, 35840.5122418707),
    ("Prof B Female - AsstProf B Male", 47189.1210526317, 8093.37132774776, 385, 5.83058890314917, 7.64887786997015e-07, 20575.337742945, 73802.9043623185),
    ("Prof B Female - AssocProf B Male", 30214.66875, 8249.93073204427, 385, 3.66241484096838, 0.0148438947742381, 3086.06437350326, 57343.2731264968),
    ("Prof B Female - Prof B Male", -1682.16000000001, 7483.63373159939, 385, -0.224778504711842, 0.999999999523436, -26290.9167759323, 22926.5967759322),
    ("AsstProf A Male - AssocProf A Male", -10779.2525252526, 7237.4078779323, 385, -1.48938027358106, 0.94286636207028, -34578.3341671314, 13019.8291166262),
    ("AsstProf A Male - Prof A Male", -46349.6490514906, 5746.73795415286, 385, -8.06538412248225, 0, -65246.8962499505, -27452.4018530307),
    ("AsstProf A Male - AsstProf B Male", -10377.4678362572, 6515.78294762224, 385, -1.592666287333, 0.911022323428919, -31803.5989797083, 11048.6633071939),
    ("AsstProf A Male - AssocProf B Male", -27351.9201388889, 6709.25666935197, 385, -4.07674374179677, 0.00319195193054234, -49414.2592972348, -5289.58098054292),
    ("AsstProf A Male - Prof B Male", -59248.7488888889, 5740.86594517304, 385, -10.3205247178269, 0, -78126.6869060135, -40370.8108717644),
    ("AssocProf A Male - Prof A Male", -35570.396526238, 5271.33662694245, 385, -6.7478893957243, 3.62700036671271e-09, -52904.3609596853, -18236.4320927908),
    ("AssocProf A Male - AsstProf B Male", 401.784688995368, 6100.60817799086, 385, 0.0658597761522998, 1, -19659.1092860169, 20462.6786640076),
    ("AssocProf A Male - AssocProf B Male", -16572.6676136363, 6306.83104071197, 385, -2.62773293063603, 0.267925812864713, -37311.6931557924, 4166.35792851976),
    ("AssocProf A Male - Prof B Male", -48469.4963636364, 5264.93442706473, 385, -9.20609687263641, 0, -65782.4081660661, -31156.5845612067),
    ("Prof A Male - AsstProf B Male", 35972.1812152334, 4226.38669119539, 385, 8.51133221912051, 0, 22074.3708927557, 49869.9915377111),
    ("Prof A Male - AssocProf B Male", 18997.7289126017, 4518.96471531173, 385, 4.20400027648617, 0.00191821585059782, 4137.82160733607, 33857.6362178674),
    ("Prof A Male - Prof B Male", -12899.0998373983, 2892.13741779952, 385, -4.46005772686023, 0.000655198506952948, -22409.4405127684, -3388.75916202828),
    ("AsstProf B Male - AssocProf B Male", -16974.4523026317, 5463.65009906897, 385, -3.10679710355614, 0.0844500355978265, -34940.8094519749, 991.904846711495),
    ("AsstProf B Male - Prof B Male", -48871.2810526318, 4218.39888467887, 385, -11.5852678678944, 0, -62742.8247251386, -34999.7373801249),
    ("AssocProf B Male - Prof B Male", -31896.8287500001, 4511.49496120509, 385, -7.07012398867447, 4.69399075164745e-10, -46732.1729394614, -17061.4845605387),
]
# fmt: on
# ---------------------------------------------------------------------------------------------

MOORE = ("moore.csv", "conformity", ["partner_status", "fcategory"], {"partner_status": "high", "fcategory": "high"})
SALARIES = ("salaries.csv", "salary", ["rank", "discipline", "sex"],
            {"rank": "AsstProf", "discipline": "A", "sex": "Female"})
#: R's level order (the first is the reference): the summary table lists its cells in this order
LEVELS = {"partner_status": ["high", "low"], "fcategory": ["high", "low", "medium"],
          "rank": ["AsstProf", "AssocProf", "Prof"], "discipline": ["A", "B"], "sex": ["Female", "Male"]}


def _raw(case) -> pd.DataFrame:
    file, dv, factors, _ = case
    raw = pd.read_csv(FIXTURES / file)
    for f in factors:
        raw[f] = pd.Categorical(raw[f].astype(str), categories=LEVELS[f])
    return raw.sort_values(factors[::-1], kind="stable").reset_index(drop=True)


def _summary_of(case, spread: str) -> pd.DataFrame:
    """The cell summaries of the raw rows (full precision), cells in R's order."""
    file, dv, factors, _ = case
    table = su.summary_table(_raw(case), outcome=dv, factors=factors, spread=spread)
    for f in factors:
        table[f] = table[f].astype(str)
    return table


def _twin(case, spread: str, ss_type: int) -> dict:
    file, dv, factors, reference = case
    table = _summary_of(case, spread)
    sheet = su.read_summary(table, factors=factors, mean=f"{dv}_mean", n="n", reference=reference,
                            **{spread: f"{dv}_{spread}"})
    options = fa.FactorialOptions(ss_type=ss_type)
    data = su.prepare(sheet.frame, factors, options)
    return su.summary_twin(data, options)


@pytest.fixture(scope="module")
def twins() -> dict:
    """The twin of each data set from its summaries: Moore from SDs, Salaries from SEMs (converted)."""
    return {("MOORE", 3): _twin(MOORE, "sd", 3), ("MOORE", 2): _twin(MOORE, "sd", 2),
            ("SALARIES", 3): _twin(SALARIES, "sem", 3), ("SALARIES", 2): _twin(SALARIES, "sem", 2)}


GOLD = {"MOORE": {"TYPE3": MOORE_TYPE3, "TYPE2": MOORE_TYPE2, "SIMPLE": MOORE_SIMPLE,
                  "INTERACTION": MOORE_INTERACTION, "TUKEY": MOORE_TUKEY},
        "SALARIES": {"TYPE3": SALARIES_TYPE3, "TYPE2": SALARIES_TYPE2, "SIMPLE": SALARIES_SIMPLE,
                     "INTERACTION": SALARIES_INTERACTION, "TUKEY": SALARIES_TUKEY}}


def _close(ours, theirs, what: str, *, atol: float = 0.0) -> None:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=atol, err_msg=what)


@pytest.mark.parametrize("data_set", ["MOORE", "SALARIES"])
@pytest.mark.parametrize("ss_type", [3, 2])
def test_anova_from_summaries_matches_afex_on_the_raw_rows(twins, data_set, ss_type):
    table = twins[(data_set, ss_type)]["anova"].set_index("effect")
    gold = GOLD[data_set][f"TYPE{ss_type}"]
    assert list(table.index) == [g[0] for g in gold]
    for effect, df1, df2, F, p, pes, ss, ss_error in gold:
        r = table.loc[effect]
        _close([r["df_num"], r["df_den"], r["F"], r["p"], r["partial_eta_sq"], r["SS"], r["SS_error"]],
               [df1, df2, F, p, pes, ss, ss_error], f"{data_set} type {ss_type} ANOVA {effect}")


@pytest.mark.parametrize("data_set", ["MOORE", "SALARIES"])
def test_simple_effects_and_hedges_g_match_emmeans_on_the_raw_rows(twins, data_set):
    simple = twins[(data_set, 3)]["simple_effects"].set_index(["effect", "level", "within"])
    gold = GOLD[data_set]["SIMPLE"]
    assert len(simple) == len(gold)
    for effect, level, within, *values in gold:
        r = simple.loc[(effect, level, within)]
        cols = ["estimate", "se", "df", "t", "p", "p_adjusted", "ci_low", "ci_high", "ci_low_adjusted",
                "ci_high_adjusted", "hedges_g", "g_ci_low", "g_ci_high"]
        _close([r[c] for c in cols], values, f"{data_set} simple effect {effect} {level} | {within}", atol=1e-12)


@pytest.mark.parametrize("data_set", ["MOORE", "SALARIES"])
def test_interaction_contrasts_match_emmeans_on_the_raw_rows(twins, data_set):
    inter = twins[(data_set, 3)]["interaction"]
    keyed = {(r["effect"], r["within"], r["cell"]): r for r in inter.to_dict("records")}
    gold = GOLD[data_set]["INTERACTION"]
    assert len(inter) == len(gold)
    factors = (MOORE if data_set == "MOORE" else SALARIES)[2]
    for effect, within, cell, *values in gold:
        # the twin's ``cell`` is the full cell ("a|b|c"); R's names the levels of the effect's factors
        group = effect.split(":")
        at = dict(zip(group, cell.split("|"), strict=True))
        at.update(dict(part.split("=", 1) for part in within.split(", ")) if within else {})
        full = "|".join(at[f] for f in factors)
        r = keyed[(effect, within, full)]
        cols = ["estimate", "se", "df", "t", "p", "p_adjusted", "ci_low", "ci_high", "ci_low_adjusted",
                "ci_high_adjusted"]
        _close([r[c] for c in cols], values, f"{data_set} interaction {effect} {cell} | {within}", atol=1e-12)


@pytest.mark.parametrize("data_set", ["MOORE", "SALARIES"])
def test_tukey_from_summaries_matches_emmeans_on_the_raw_rows(twins, data_set):
    tukey = twins[(data_set, 3)]["extra"]["tukey"].set_index("contrast")
    gold = GOLD[data_set]["TUKEY"]
    assert sorted(tukey.index) == sorted(g[0] for g in gold)
    for contrast, estimate, se, df, t, p, lo, hi in gold:
        r = tukey.loc[contrast]
        _close([r["estimate"], r["se"], r["df"], r["t"], r["ci_low"], r["ci_high"]], [estimate, se, df, t, lo, hi],
               f"{data_set} Tukey {contrast}")
        if p >= 1e-4:
            _close([r["p_adjusted"]], [p], f"{data_set} Tukey p {contrast}")
        else:  # R's ptukey is good to ~1e-11 absolute only (documented in test_frequentist_kway.py)
            assert r["p_adjusted"] == pytest.approx(p, rel=0.0, abs=2e-11), contrast


def test_bartlett_from_the_sds_matches_the_raw_rows():
    raw = _raw(MOORE)
    groups = [g["conformity"].to_numpy(dtype=float) for _, g in raw.groupby(["partner_status", "fcategory"], observed=True)]
    expected = stats.bartlett(*groups)
    table = _summary_of(MOORE, "sd")
    sheet = su.read_summary(table, factors=MOORE[2], mean="conformity_mean", sd="conformity_sd", n="n")
    got = su.bartlett(su.prepare(sheet.frame, MOORE[2], fa.FactorialOptions()))
    assert got["K2"] == pytest.approx(expected.statistic, rel=1e-10)
    assert got["p"] == pytest.approx(expected.pvalue, rel=1e-10)
    assert got["df"] == len(groups) - 1


# ------------------------------------------------------------------------------ the model


def _simulated(seed: int = 7) -> pd.DataFrame:
    """A 2 x 2 study of 34 mice (unequal cells), values to 3 decimals."""
    rng = np.random.default_rng(seed)
    means = {("saline", "IgG"): 160.0, ("ketamine", "IgG"): 95.0, ("saline", "IGF-1 nAb"): 150.0,
             ("ketamine", "IGF-1 nAb"): 145.0}
    ns = {("saline", "IgG"): 9, ("ketamine", "IgG"): 10, ("saline", "IGF-1 nAb"): 8, ("ketamine", "IGF-1 nAb"): 7}
    rows = [{"treatment": t, "antibody": a, "immobility": round(float(v), 3)}
            for (t, a), m in means.items() for v in rng.normal(m, 30.0, ns[(t, a)])]
    return pd.DataFrame(rows)


def _summary_data(raw: pd.DataFrame, spread: str = "sd") -> su.SummaryData:
    table = su.summary_table(raw, outcome="immobility", factors=["treatment", "antibody"], spread=spread)
    sheet = su.read_summary(table, factors=["treatment", "antibody"], mean="immobility_mean", n="n",
                            **{spread: f"immobility_{spread}"})
    return su.prepare(sheet.frame, ["treatment", "antibody"], fa.FactorialOptions())


def test_the_summary_likelihood_is_the_raw_likelihood_up_to_a_constant():
    raw = _simulated()
    data = _summary_data(raw)
    sheet = fa.read_factorial(raw, outcome="immobility", factors=["treatment", "antibody"])
    options = fa.FactorialOptions()
    fd = fa.prepare(sheet.frame, ["treatment", "antibody"], options)
    priors = fa.resolve_priors(fd, options)
    assert priors == fa.resolve_priors(data.factorial, options)  # same data-scaled priors
    raw_model, summary_model = fa.build_model(fd, priors, options), su.build_model(data, priors)
    joint_model = su.build_model(data, priors, joint=True)
    logps = [m.compile_logp() for m in (raw_model, summary_model, joint_model)]
    rng = np.random.default_rng(3)
    gaps = []
    for _ in range(5):
        point = {"cell_mean": rng.normal(130.0, 40.0, size=(2, 2)), "sigma_log__": np.array(rng.normal(3.3, 0.4))}
        values = [float(f(point)) for f in logps]
        gaps.append((values[1] - values[0], values[2] - values[1]))
    gaps = np.array(gaps)
    assert np.ptp(gaps[:, 0]) < 1e-8  # summary - raw: a constant (the data's normalising terms)
    assert np.abs(gaps[:, 1]).max() < 1e-9  # the calibration model's one term = the two terms


def test_prepare_refuses_another_family_and_keeps_the_statistics_exactly():
    raw = _simulated()
    data = _summary_data(raw, spread="sem")
    grouped = raw.groupby(["treatment", "antibody"], sort=False)["immobility"]
    np.testing.assert_allclose(data.mean, grouped.mean().to_numpy(), rtol=1e-13)
    np.testing.assert_allclose(data.sd, grouped.std(ddof=1).to_numpy(), rtol=1e-13)
    pseudo = data.factorial
    assert pseudo.n_obs == len(raw) and not pseudo.animal_effect and pseudo.cohort_kind == "none"
    assert np.mean(pseudo.y) == pytest.approx(raw["immobility"].mean(), rel=1e-13)
    assert np.std(pseudo.y, ddof=1) == pytest.approx(raw["immobility"].std(ddof=1), rel=1e-13)
    sheet = su.read_summary(su.summary_table(raw, outcome="immobility", factors=["treatment", "antibody"]),
                            factors=["treatment", "antibody"], mean="immobility_mean", sem="immobility_sem", n="n")
    with pytest.raises(DesignError, match="normal outcome only"):
        su.prepare(sheet.frame, ["treatment", "antibody"], fa.FactorialOptions(family="lognormal"))


@pytest.fixture(scope="module")
def raw_and_summary_fits():
    """The factorial fitted to simulated animals and the summary design to their cell summaries (same seed)."""
    raw = _simulated()
    table = su.summary_table(raw, outcome="immobility", factors=["treatment", "antibody"], spread="sem")
    kw = {"draws": 1000, "tune": 1000, "chains": 2, "seed": 11, "bf_sensitivity": False}
    by_rows = fa.analyse_factorial(raw, outcome="immobility", factors=["treatment", "antibody"], blocker="antibody",
                                   **kw)
    by_summary = su.analyse_summary(table, factors=["treatment", "antibody"], mean="immobility_mean",
                                    sem="immobility_sem", n="n", blocker="antibody", **kw)
    return by_rows, by_summary


def test_the_summary_posterior_equals_the_raw_data_posterior(raw_and_summary_fits, capsys):
    by_rows, by_summary = raw_and_summary_fits
    assert by_rows.diagnostics.passed and by_summary.diagnostics.passed
    worst = 0.0
    for name in ("cell_mean", "simple_effect", "interaction", "blockade_pct", "cohens_d", "main_effect"):
        a = by_rows.estimates[by_rows.estimates["name"] == name].set_index("label")
        b = by_summary.estimates[by_summary.estimates["name"] == name].set_index("label")
        assert len(a) and list(a.index) == list(b.index), name
        gap = ((a["median"] - b["median"]).abs() / a["sd"]).max()
        assert gap < 0.1, (name, gap)
        np.testing.assert_allclose(b["sd"], a["sd"], rtol=0.1, err_msg=name)
        worst = max(worst, float(gap))
    with capsys.disabled():
        print(f"\n[summary vs raw-data factorial] worst posterior-median gap {worst:.2g} posterior SD")
    # the frequentist twin and the Bayesian ANOVA from the summaries are the raw data's
    pd.testing.assert_frame_equal(by_summary.anova, by_rows.anova, rtol=1e-9, check_dtype=False)
    ba, bb = by_rows.bayes_anova.set_index("source"), by_summary.bayes_anova.set_index("source")
    np.testing.assert_allclose(bb["sd_median"], ba.loc[bb.index, "sd_median"], rtol=0.05)
    freq = ["freq_estimate", "freq_se", "freq_p", "freq_p_adjusted", "freq_ci_low", "freq_ci_high"]
    np.testing.assert_allclose(by_summary.estimates[freq].to_numpy(dtype=float),
                               by_rows.estimates[freq].to_numpy(dtype=float), rtol=1e-9)


def test_the_summary_result_reports_the_summary_statistics(raw_and_summary_fits):
    _, result = raw_and_summary_fits
    design = get_design("summary")
    text = " ".join(design.data_sentences(result))
    assert "rests on summary statistics" in text and "normal" in text and "cohort" in text
    assert "Every SD was converted from the SEM" in text and "sqrt(9)" in text
    assert result.sheet.data_block()["n_animals"] == 34
    assert result.sheet.data_block()["n_per_group"] == {"saline|IgG": 9, "saline|IGF-1 nAb": 8, "ketamine|IgG": 10,
                                                        "ketamine|IGF-1 nAb": 7}
    assert "Shapiro" not in str(result.frequentist_extra) and "bartlett" in result.frequentist_extra
    ppc = pd.DataFrame(result.checks["ppc"]["statistics"])
    assert set(ppc["statistic"]) == {"mean", "sd", "largest / smallest SD"} and ppc["p"].between(0, 1).all()
    assert "posterior_predictive" not in result.tree.children and "estimands" in result.tree.children
    assert "ANOVA from the cell summaries on immobility" in design.anova_head(result)
    table = design.descriptives(result)
    assert list(table["n"]) == [9, 8, 10, 7] and set(table["SD from"]) == {"SEM × √n"}
    assert set(design.figures(result)) == {"summary", "ppc"}


# ------------------------------------------------------------------------------ reading


def _write(tmp_path: Path, text: str, name: str = "fig2b.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """treatment,antibody,mean,sem,n
saline,IgG,168.2,8.9,10
ketamine,IgG,90.7,7.2,11
saline,IGF-1 nAb,137.3,10.6,9
ketamine,IGF-1 nAb,157.9,11.4,8
"""
READ = {"factors": ["treatment", "antibody"], "mean": "mean", "sem": "sem", "n": "n"}


def test_read_summary_converts_the_sem_and_keeps_a_ledger(tmp_path):
    text = GOOD.replace("n\n", "n\n\n", 1) + "Mean,,138.5,,38\n"
    sheet = su.read_summary(_write(tmp_path, text), **READ)
    f = sheet.frame
    assert sheet.design == "summary" and list(f["treatment"].cat.categories) == ["saline", "ketamine"]
    assert sheet.reference_rule == {"treatment": "named like a control (saline)",
                                    "antibody": "named like a control (IgG)"}
    np.testing.assert_allclose(f["sd"], f["sem"] * np.sqrt(f["n_animals"]))
    assert f["sd_from_sem"].all() and not f["censored"].any()
    led = sheet.ledger.to_dict()
    assert led["rows_read"] == 6 and led["rows_used"] == 4
    assert [e["reason"] for e in led["excluded"]] == ["blank row", "summary row (mean)"]
    assert sheet.summary()["n_animals"] == 38 and sheet.columns["value"] == "mean"


@pytest.mark.parametrize(("change", "row", "words"), [
    (("saline,IgG,168.2,8.9,10", "saline,IgG,168.2,8.9,1"), 2, "n = 1: a cell needs at least 2 animals"),
    (("saline,IgG,168.2,8.9,10", "saline,IgG,168.2,8.9,9.5"), 2, "not a whole number"),
    (("ketamine,IgG,90.7,7.2,11", "ketamine,IgG,90.7,0,11"), 3, "the SEM is 0; it must be above zero"),
    (("ketamine,IgG,90.7,7.2,11", "ketamine,IgG,90.7,-7.2,11"), 3, "it must be above zero"),
    (("ketamine,IgG,90.7,7.2,11", "ketamine,IgG,ninety,7.2,11"), 3, "expected a number, found 'ninety'"),
    (("ketamine,IgG,90.7,7.2,11", "ketamine,IgG,,7.2,11"), 3, "the mean is missing"),
    (("ketamine,IgG,90.7,7.2,11", "saline,IgG,90.7,7.2,11"), 3, r"the cell treatment=saline, antibody=IgG is "
                                                                 r"given twice \(rows 2 and 3\)"),
    (("ketamine,IgG,90.7,7.2,11", "ketamine,IgG,901.7,7.2,11"), 3, "outside the outcome's range 0 to 360"),
])
def test_bad_summary_tables_name_the_row_and_the_fix(tmp_path, change, row, words):
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(DataError, match=words) as err:
        su.read_summary(path, **READ, value_range=(0, 360))
    assert err.value.row == row and err.value.fix and "fig2b.csv" in str(err.value)


def test_a_missing_cell_both_spreads_and_no_spread_are_errors(tmp_path):
    path = _write(tmp_path, "".join(GOOD.splitlines(keepends=True)[:-1]))
    with pytest.raises(DataError, match="no row for the cell treatment=ketamine, antibody=IGF-1 nAb.*add it"):
        su.read_summary(path, **READ)
    full = _write(tmp_path, GOOD.replace("sem,n", "sem,sd,n").replace(",10\n", ",28,10\n"), "both.csv")
    with pytest.raises(DataError, match="both --sd 'sd' and --sem 'sem' are given"):
        su.read_summary(full, **READ, sd="sd")
    with pytest.raises(DataError, match="neither --sd nor --sem"):
        su.read_summary(full, factors=["treatment", "antibody"], mean="mean", n="n")
    with pytest.raises(DataError, match="not LOW < HIGH"):
        su.read_summary(full, **READ, value_range=(360, 0))


def test_the_shipped_summary_table_is_derived_from_the_shipped_study():
    raw = pd.read_csv(DATA / "fst_igf1_nab.csv")
    table = su.summary_table(raw, outcome="immobility_s", factors=["treatment", "antibody"], spread="sem", decimals=2)
    shipped = (DATA / su.SHIPPED_TABLE).read_text(encoding="utf-8")
    assert table.to_csv(index=False, lineterminator="\n") == shipped
    assert "fst_igf1_nab_summary.csv" in (DATA / "README.md").read_text(encoding="utf-8")


def test_the_calibration_model_resimulates_every_summary():
    model, params, priors = get_design("summary").calibration_model(DATA)
    assert params == ["cell_mean", "sigma"] and set(priors) == {"cell_mean", "sigma"}
    assert model["y_data"].get_value().shape == (5,)  # 4 cell means and SS_within, one observed term
    assert [rv.name for rv in model.observed_RVs] == ["y"]


def test_the_summary_design_has_no_plan_of_its_own():
    design = get_design("summary")
    assert design.plan_options == ()
    with pytest.raises(DesignError, match="plan factorial"):
        design.plan_targets(None)


# ------------------------------------------------------------------------------ CLI


ARGS = ["--factor", "treatment", "--factor", "antibody", "--mean", "mean", "--sem", "sem", "--n", "n"]


@pytest.mark.parametrize(("change", "extra", "words"), [
    (("saline,IgG,168.2,8.9,10", "saline,IgG,168.2,8.9,1"), [], "row 2, column 'n': n = 1"),
    ((",8.9,", ",0,"), [], "row 2, column 'sem': the SEM is 0"),
    (("", ""), ["--sd", "mean"], "both --sd 'mean' and --sem 'sem' are given"),
    (("", ""), ["--range", "0,100"], "row 2, column 'mean': the mean 168.2 is outside"),
    (("", ""), ["--range", "zero"], "--range 'zero' must be two numbers"),
    (("", ""), ["--compare"], "--compare has no alternative model"),
])
def test_cli_bad_input_exits_2_before_fitting(tmp_path, capsys, change, extra, words):
    path = _write(tmp_path, GOOD.replace(*change) if change[0] else GOOD)
    code = main(["summary", str(path), *ARGS, *extra, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Fix:" in err
    assert not (tmp_path / "out").exists()


def test_cli_writes_a_report_folder_that_reloads(tmp_path):
    from bayes_igf1.results import load_result

    out = tmp_path / "res"
    code = main(["summary", str(DATA / su.SHIPPED_TABLE), "--factor", "treatment", "--factor", "antibody",
                 "--mean", "immobility_s_mean", "--sem", "immobility_s_sem", "--n", "n", "--outcome",
                 "immobility (s)", "--blocker", "antibody", "--range", "0,240", "--draws", "500", "--chains", "2",
                 "--out", str(out), "--quiet"])
    assert code == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["design"] == "summary" and doc["data"]["n_animals"] == 38 and doc["data"]["rows_read"] == 4
    report = (out / "report.md").read_text()
    assert "rests on summary statistics" in report and "SEM 8.85 x sqrt(10)" in report
    assert (out / "figures" / "summary.png").exists() and (out / "figures" / "ppc.png").exists()
    # a replication planned from the published figure: plan factorial --from the summary analysis
    from bayes_igf1.plan import plan_factorial

    plan = plan_factorial(source=out, n=[6], sims=4, bayesian=False, workers=1, seed=3)
    assert any("summary statistics" in note for note in plan.notes)
    assert plan.design_prior["kind"] == "posterior" and len(plan.frequentist) and plan.frequentist["power"].between(0, 1).all()
    again = load_result(out)
    assert again.design == "summary" and math.isclose(
        again.estimates.loc[again.estimates["name"] == "interaction", "median"].iloc[0],
        doc["estimates"][[e["name"] for e in doc["estimates"]].index("interaction")]["median"])


def test_inclusion_bfs_from_the_summaries_are_the_raw_datas(raw_and_summary_fits):
    """The JZS inclusion Bayes factors depend on the data through the cell means, SSs and n only: from the summary
    table they equal those of the animals' rows (quadrature for 2 x 2: deterministic), and sit in the ANOVA rows."""
    by_rows, by_summary = raw_and_summary_fits
    ba, bb = by_rows.bayes_anova.set_index("source"), by_summary.bayes_anova.set_index("source")
    effects = ["treatment", "antibody", "treatment:antibody"]
    for col in ("BF_incl", "BF_incl_matched"):
        assert np.isfinite(ba.loc[effects, col]).all()
        np.testing.assert_allclose(bb.loc[effects, col], ba.loc[effects, col], rtol=1e-8)
    # the interaction was simulated as a blockade: its inclusion BF favours it strongly, as the F test does
    assert ba.loc["treatment:antibody", "BF_incl"] > 10
    assert by_rows.anova.set_index("effect").loc["treatment:antibody", "p"] < 0.01
    from bayes_igf1.report.text import methods_paragraph

    assert "inclusion Bayes factor (JASP" in methods_paragraph(by_summary) and "respect marginality" in \
        methods_paragraph(by_summary)
