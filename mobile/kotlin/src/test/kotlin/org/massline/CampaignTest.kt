package org.massline

import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.massline.ffi.MasslineException
import org.massline.model.CampaignPhase
import org.massline.model.CampaignPlan
import org.massline.model.ComparisonMaterial
import org.massline.model.FourWinds
import org.massline.model.ListeningFormat
import org.massline.model.ListeningMeeting
import org.massline.model.NoticeCategory
import org.massline.model.NoticeMedium
import org.massline.model.Notice
import org.massline.model.PhaseEntry
import org.massline.model.Record
import org.massline.model.RecordKind
import org.massline.model.Regulation
import org.massline.model.RegulationCategory
import org.massline.model.ServiceChecklist
import org.massline.model.ServiceMatter
import org.massline.model.WindPoint

class CampaignTest {
    @TempDir
    lateinit var tmp: File

    @Test
    fun `the township's plan, checklist and notice reach the village, which records its phases`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val liu = store(tmp, "liu")
            liu.enroll(server.code("liu"), deviceName = "刘干事的手机")
            val zhang = store(tmp, "zhang")
            zhang.enroll(server.code("zhang"), deviceName = "张书记的手机")

            // The township office issues its plan, a checklist and a notice to
            // every village (no village named: its own scope).
            liu.create(
                Record.CampaignPlan(
                    CampaignPlan(
                        title = "红星镇活动实施方案",
                        issuedOn = today.minusDays(60),
                        learningStart = today.minusDays(60),
                        learningEnd = today.minusDays(31),
                        criticismStart = today.minusDays(30),
                        criticismEnd = today.minusDays(1),
                        rectificationStart = today,
                        rectificationEnd = today.plusDays(60),
                    ),
                ),
            )
            liu.create(
                Record.ServiceChecklist(
                    ServiceChecklist(
                        matter = ServiceMatter.SUBSISTENCE_ALLOWANCE,
                        issuedOn = today,
                        items = listOf("户口本", "收入证明"),
                    ),
                ),
            )
            val notice = liu.create(
                Record.Notice(
                    Notice(
                        date = today,
                        category = NoticeCategory.PARTY_AFFAIRS,
                        medium = NoticeMedium.MEETING,
                        title = "关于开展查摆问题环节的通知",
                    ),
                ),
            )
            assertEquals("t/shared", liu.get(notice).scope)
            liu.sync()
            zhang.sync()

            // The village reads them, and may not withdraw the township's notice.
            assertTrue(zhang.list(RecordKind.NOTICE).any { it.id == notice })
            assertThrows(MasslineException::class.java) { runBlocking { zhang.withdraw(notice, "不是本村的") } }

            // No phase entered: behind the plan in the two that began before
            // today (rectification starts today).
            val before = zhang.campaign().single()
            assertEquals("dongcun", before.village)
            assertNull(before.standing.current)
            assertEquals(listOf(CampaignPhase.LEARNING, CampaignPhase.CRITICISM), before.standing.behind)

            // The village enters each phase on its planned day: on plan.
            for ((phase, day) in listOf(
                CampaignPhase.LEARNING to today.minusDays(60),
                CampaignPhase.CRITICISM to today.minusDays(30),
                CampaignPhase.RECTIFICATION to today,
            )) {
                zhang.create(Record.PhaseEntry(PhaseEntry(phase = phase, enteredOn = day)))
            }
            val after = zhang.campaign().single()
            assertEquals(CampaignPhase.RECTIFICATION, after.standing.current)
            assertEquals(emptyList<CampaignPhase>(), after.standing.behind)

            // A service request of the matter starts from the township's checklist.
            val sr = zhang.create(Record.ServiceRequest(serviceRequest("刘大爷").copy(matter = ServiceMatter.SUBSISTENCE_ALLOWANCE, checklist = emptyList())))
            assertEquals(listOf("户口本", "收入证明"), (zhang.get(sr).record as Record.ServiceRequest).v1.checklist)

            // The campaign's village records: a listening meeting and an opinion
            // heard there, a regulation, the secretary's comparison material.
            val meeting = zhang.create(
                Record.ListeningMeeting(
                    ListeningMeeting(
                        date = today,
                        format = ListeningFormat.REPRESENTATIVES_MEETING,
                        place = "村委会",
                        topics = "低保评定",
                        members = listOf("zhang", "wang"),
                        others = 12u,
                    ),
                ),
            )
            val heard = zhang.create(Record.Opinion(opinion("低保评定要公开").copy(meeting = meeting)))
            assertEquals(meeting, (zhang.get(heard).record as Record.Opinion).v1.meeting)
            zhang.create(
                Record.Regulation(
                    Regulation(
                        title = "村务公开制度",
                        category = RegulationCategory.VILLAGE_AFFAIRS,
                        adoptedOn = today,
                        text = "每月公开一次",
                    ),
                ),
            )
            zhang.create(
                Record.ComparisonMaterial(
                    ComparisonMaterial(
                        author = "zhang",
                        date = today,
                        points = listOf(WindPoint(wind = FourWinds.BUREAUCRATISM, text = "下村入户少")),
                        causes = "宗旨意识淡薄",
                        measures = "每月走访困难户",
                    ),
                ),
            )
            // Comparison material is its author's only.
            assertThrows(MasslineException::class.java) {
                runBlocking {
                    zhang.create(
                        Record.ComparisonMaterial(ComparisonMaterial(author = "wang", date = today, causes = "", measures = "")),
                    )
                }
            }
            zhang.sync()
            liu.sync()
            // The township sees the village on plan, and its records.
            assertEquals(CampaignPhase.RECTIFICATION, liu.campaign().single { it.village == "dongcun" }.standing.current)
            assertEquals(1, liu.list(RecordKind.REGULATION).size)
            liu.close()
            zhang.close()
        }
    }
}
