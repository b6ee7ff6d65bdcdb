package org.massline

import java.io.File
import java.time.LocalDate
import org.massline.model.Demand
import org.massline.model.FourWinds
import org.massline.model.HouseholdGroup
import org.massline.model.HowFound
import org.massline.model.Notice
import org.massline.model.NoticeCategory
import org.massline.model.NoticeMedium
import org.massline.model.Opinion
import org.massline.model.OpinionArea
import org.massline.model.OpinionChannel
import org.massline.model.OpinionStatus
import org.massline.model.PracticalThing
import org.massline.model.Problem
import org.massline.model.ProblemArea
import org.massline.model.Record
import org.massline.model.Rectification
import org.massline.model.RectificationStatus
import org.massline.model.RectificationTerm
import org.massline.model.ServiceMatter
import org.massline.model.ServiceRequest
import org.massline.model.ServiceStatus
import org.massline.model.SourceGroup
import org.massline.model.StudyEntry
import org.massline.model.StudyMaterial
import org.massline.model.StudyMode
import org.massline.model.ThingStatus
import org.massline.model.Visit

val today: LocalDate get() = LocalDate.now()

/** A self-study entry of [member]. */
fun study(member: String, minutes: UInt = 40u, topic: String = "党的群众路线学习读本") = StudyEntry(
    member = member,
    date = today,
    material = StudyMaterial.MASS_LINE_READING,
    topic = topic,
    mode = StudyMode.SELF_STUDY,
    minutes = minutes,
    reflection = "要密切联系群众",
)

/** An opinion heard on a household visit. */
fun opinion(text: String) = Opinion(
    date = today,
    channel = OpinionChannel.HOUSEHOLD_VISIT,
    source = SourceGroup.POOR,
    area = OpinionArea.VILLAGE_AFFAIRS,
    fourWinds = FourWinds.FORMALISM,
    text = text,
    status = OpinionStatus.RECEIVED,
)

/** A problem raised by the masses. */
fun problem(title: String) = Problem(title = title, howFound = HowFound.RAISED_BY_MASSES, area = ProblemArea.LIVELIHOOD)

/** A planned rectification measure of [problem], the secretary responsible. */
fun rectification(problem: String, measure: String) = Rectification(
    problem = problem,
    measure = measure,
    objective = "每月公开",
    responsible = listOf("zhang"),
    deadline = today.plusMonths(3),
    term = RectificationTerm.SHORT,
    steps = mapOf(RectificationStatus.PLANNED to today),
)

/** A notice on the board. */
fun notice(title: String) = Notice(date = today, category = NoticeCategory.VILLAGE_AFFAIRS, medium = NoticeMedium.BOARD, title = title)

/** A practical thing promised to the masses. */
fun practicalThing(what: String) =
    PracticalThing(what = what, targetDate = today.plusMonths(2), responsible = listOf("zhang"), status = ThingStatus.PROMISED)

/** A visit to a poor household with one demand, `d1`. */
fun visit(demand: String) = Visit(
    cadre = "zhang",
    household = "刘大爷",
    group = HouseholdGroup.POOR,
    date = today,
    demands = listOf(Demand(id = "d1", text = demand)),
)

/** A medical-assistance application handled by the secretary. */
fun serviceRequest(applicant: String) = ServiceRequest(
    matter = ServiceMatter.MEDICAL_ASSISTANCE,
    applicant = applicant,
    appliedOn = today,
    checklist = listOf("身份证", "医院发票"),
    agent = "zhang",
    status = ServiceStatus.ACCEPTED,
)

/** The study entry inside a record, or a test failure. */
val Record.studyEntry: StudyEntry get() = (this as Record.StudyEntry).v1

/** The rectification inside a record, or a test failure. */
val Record.rectification: Rectification get() = (this as Record.Rectification).v1

/** The opinion inside a record, or a test failure. */
val Record.opinion: Opinion get() = (this as Record.Opinion).v1

/** A store file in [dir]. */
suspend fun store(dir: File, name: String) = MasslineStore.open(File(dir, "$name.db"))
